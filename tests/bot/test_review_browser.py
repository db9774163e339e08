"""The review page in a real headless browser (Debian's chromium, driven by selenium): the clips load
and play, a draft is remade with ``n``, drafts are approved and rejected by clicking and by keyboard
shortcut, and the decisions are still there after a reload. Leaves a screenshot in the test's folder
and, with REACTCLIP_UPDATE_SCREENSHOT=1, a copy in 256 colours at docs/img/review.png (the
README's), so that an ordinary run leaves the checkout as it was."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from review_helpers import DONE, REFUSED, batch, batch_template, serving_in_a_thread
from skipping import require

from reactclip.bot.review.app import ReviewConfig
from reactclip.bot.review.store import DecisionStore

pytestmark = pytest.mark.slow
__all__ = ["batch", "batch_template"]  # fixtures

BROWSER_FLAG = "REACTCLIP_REQUIRE_BROWSER"
"""Set to 1 (CI does) to fail, not skip, where chromium, chromedriver or selenium is missing."""
README_SCREENSHOT = Path(__file__).parents[2] / "docs" / "img" / "review.png"
WAIT_S = 30
FIRST, SECOND, THIRD = DONE


def browser_problem() -> str | None:
    """None when a headless chromium can be driven here, else what is missing."""
    missing = [name for name in ("chromium", "chromedriver") if shutil.which(name) is None]
    if missing:
        return f"{' and '.join(missing)} not found"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    return None


@pytest.fixture
def browser() -> Iterator[Any]:
    require(
        browser_problem(), BROWSER_FLAG, "apt-get install chromium chromium-driver; pip install -e '.[dev]'"
    )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(shutil.which("chromium"))
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--window-size=1280,1640",
        "--autoplay-policy=no-user-gesture-required",
        "--mute-audio",
    ):
        options.add_argument(argument)
    # Both paths given: selenium uses them as they are and never looks for a browser to download.
    driver = webdriver.Chrome(
        options=options, service=Service(executable_path=str(shutil.which("chromedriver")))
    )
    try:
        yield driver
    finally:
        driver.quit()


def test_a_reviewer_plays_remakes_and_decides_and_a_reload_keeps_the_decisions(
    batch: Path, text_models: Any, browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    def wait_for(condition: Callable[[Any], Any]) -> Any:
        return WebDriverWait(browser, WAIT_S).until(condition)

    def card(draft_id: str) -> Any:
        return browser.find_element(By.ID, f"draft-{draft_id}")

    def decision(draft_id: str) -> str:
        return str(card(draft_id).find_element(By.CLASS_NAME, "decision").text)

    def reloads_after(action: Callable[[], None]) -> None:
        """Do ``action`` (a form is posted) and wait for the page it redirects to."""
        page = browser.find_element(By.TAG_NAME, "html")
        action()
        wait_for(expected_conditions.staleness_of(page))
        wait_for(lambda _: browser.execute_script("return document.readyState") == "complete")

    def press(keys: str) -> Callable[[], None]:
        return lambda: ActionChains(browser).send_keys(keys).perform()

    monkeypatch.chdir(batch.parent)  # served as `reactclip review drafts` would be (the page shows it)
    with serving_in_a_thread(ReviewConfig(Path(batch.name)), text_models) as server:
        browser.get(f"http://127.0.0.1:{server.port}/")
        reloads_after(lambda: browser.find_element(By.NAME, "name").send_keys("Ana", Keys.ENTER))
        assert browser.find_element(By.ID, "reviewer-name").text == "Ana"  # asked once, kept in a cookie

        # Every clip is there and plays: each <video> has data, and its src answers 200 as MP4.
        videos = browser.find_elements(By.CSS_SELECTOR, "article.draft video")
        assert len(videos) == len(DONE)
        wait_for(
            lambda _: all(v.get_property("readyState") >= 2 and v.get_property("videoWidth") for v in videos)
        )
        fetched = browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "Promise.all(Array.from(document.querySelectorAll('video')).map("
            "  v => fetch(v.src).then(r => [r.status, r.headers.get('content-type')]))).then(done);"
        )
        assert fetched == [[200, "video/mp4"]] * len(DONE)
        refused = card(REFUSED)
        assert "harassment" in refused.text and not refused.find_elements(By.TAG_NAME, "video")

        # n: a new seed for the first draft (the page opens on it).
        old_seed = card(FIRST).find_element(By.CLASS_NAME, "seed").text
        reloads_after(press("n"))
        assert card(FIRST).find_element(By.CLASS_NAME, "seed").text != old_seed
        assert "remade with seed" in card(FIRST).text

        # Clicking: approve the first; reject the second with a reason typed in its field.
        reloads_after(card(FIRST).find_element(By.CSS_SELECTOR, "form.approve button").click)
        assert decision(FIRST).startswith("approved by Ana at ")
        card(SECOND).find_element(By.CSS_SELECTOR, "form.reject input[name=reason]").send_keys("too loud")
        reloads_after(card(SECOND).find_element(By.CSS_SELECTOR, "form.reject button").click)
        assert decision(SECOND).startswith("rejected by Ana at ") and decision(SECOND).endswith("(too loud)")

        # Keys: j to the third, r and a reason and Enter to reject it, then a to approve it after all.
        press("j")()
        wait_for(lambda _: "selected" in card(THIRD).get_attribute("class"))
        press("r")()
        assert browser.switch_to.active_element.get_attribute("name") == "reason"
        reloads_after(press("off topic" + Keys.ENTER))
        assert decision(THIRD).startswith("rejected by Ana at ") and decision(THIRD).endswith("(off topic)")
        reloads_after(press("a"))  # the page came back on the third draft
        assert decision(THIRD).startswith("approved by Ana at ")

        browser.refresh()
        wait_for(lambda _: len(browser.find_elements(By.CSS_SELECTOR, "article.draft")) == len(DONE) + 1)
        assert decision(FIRST).startswith("approved by Ana")
        assert decision(SECOND).startswith("rejected by Ana") and decision(SECOND).endswith("(too loud)")
        assert decision(THIRD).startswith("approved by Ana")
        assert decision(REFUSED) == "undecided"
        assert browser.find_element(By.ID, "approved-count").text == "2"

        press("?")()  # the shortcuts, open for the screenshot
        assert browser.find_element(By.ID, "shortcuts").get_property("open")
        browser.execute_script("window.scrollTo(0, 0)")
        videos = browser.find_elements(By.CSS_SELECTOR, "article.draft video")
        wait_for(lambda _: all(v.get_property("readyState") >= 2 for v in videos))
        screenshot = tmp_path / "review.png"
        assert browser.save_screenshot(str(screenshot))
        assert Image.open(screenshot).size[0] > 0
        if os.environ.get("REACTCLIP_UPDATE_SCREENSHOT") == "1":  # refresh the README's picture
            Image.open(screenshot).convert("RGB").quantize(256).save(README_SCREENSHOT, optimize=True)

    decisions = DecisionStore.in_folder(batch).current()
    assert {draft_id: d.decision for draft_id, d in decisions.items()} == {
        FIRST: "approved",
        SECOND: "rejected",
        THIRD: "approved",
    }
    assert [d.decision for d in DecisionStore.in_folder(batch).history(FIRST)] == ["pending", "approved"]
