// Keyboard shortcuts for the review page (listed on the page). Every action is one of the page's
// own forms, submitted as if clicked: the server redirects back to the draft (#draft-ID).
(() => {
  "use strict";
  const drafts = Array.from(document.querySelectorAll("article.draft"));
  let current = Math.max(0, drafts.findIndex((draft) => "#" + draft.id === location.hash));

  function select(index, scroll) {
    if (!drafts.length) return;
    current = Math.min(Math.max(index, 0), drafts.length - 1);
    drafts.forEach((draft, i) => draft.classList.toggle("selected", i === current));
    if (scroll) drafts[current].scrollIntoView({ block: "center" });
    history.replaceState(null, "", "#" + drafts[current].id);
  }

  function form(name) {
    return drafts.length ? drafts[current].querySelector("form." + name) : null;
  }

  function submit(name) {
    const chosen = form(name);
    if (chosen) chosen.requestSubmit();
  }

  function focusField(name, field) {
    const chosen = form(name);
    const input = chosen && chosen.querySelector(`input[name="${field}"]`);
    if (input) {
      input.focus();
      input.select();
    }
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, button")) {
      if (event.key === "Escape") event.target.blur();
      if (event.target.tagName !== "BUTTON") return;
    }
    switch (event.key) {
      case "j": select(current + 1, true); break;
      case "k": select(current - 1, true); break;
      case "a": submit("approve"); break;
      case "r": focusField("reject", "reason"); break;
      case "n": submit("regenerate"); break;
      case "e": focusField("edit", "text"); break;
      case "?": {
        const help = document.getElementById("shortcuts");
        help.open = !help.open;
        break;
      }
      default: return;
    }
    event.preventDefault();
  });

  drafts.forEach((draft, i) => draft.addEventListener("click", () => select(i, false)));

  // Remaking takes from under a second (sticker) to a minute (a GPU model): say so, and keep a
  // second press from queuing the same work again.
  document.querySelectorAll("form.remake").forEach((remake) =>
    remake.addEventListener("submit", () => {
      remake.closest("article").classList.add("busy");
      remake.querySelectorAll("button").forEach((button) => { button.disabled = true; });
    })
  );

  select(current, location.hash !== "");
})();
