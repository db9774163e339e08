"""Retrain the semantic layer: ``python -m reactclip.moderation.train``.

Reads data/train.jsonl ({"text", "category"} per line) and normalises each text exactly as run time
does. Fits two models on it: the moderation head (tuned.py: MiniLM's top layers fine-tuned, with a
linear layer, from the token states after HEAD_START_LAYER layers) and a multinomial logistic
regression over TF-IDF character and word n-grams (ngram.py). Then, on 5-fold out-of-fold
probabilities:

1. picks the blend weight of the two models (the one that catches most unsafe examples at the
   false-flag budget below);
2. picks per-category thresholds: the highest threshold at which the layer alone catches
   RECALL_TARGET of each unsafe category, then raised where needed (cheapest first) until the layer
   flags at most MAX_SAFE_FLAGGED of the safe examples beyond those the lexicon flags. sexual_minors
   never goes above MINORS_MAX_THRESHOLD.

The lexicon runs first at run time, so the report shows the layer alone and lexicon + layer.
Writes data/moderation_head.safetensors (the head, float16), data/semantic_model.npz (classes,
blend weight, thresholds) and data/ngram_model.npz (n-gram vocabulary, idf, weights), each with the
sha256 of the training files so a test can tell stale weights. scikit-learn is needed here only (the
dev extra), never at run time. 30 to 45 minutes on two CPU cores.

Last run (13145 examples + 4860 everyday messages; out of fold, lexicon + layer; the layer flags at
most 5% of the hard negatives and 1% of everyday messages): n-gram weight 0.5, thresholds
harassment 0.50, hate 0.45, self_harm 0.50, sexual 0.525, sexual_minors 0.15, violence_gore 0.525,
any-unsafe sum 0.80 (mean catch 92.4% out of fold); real-person sexual thresholds 0.5 for a first
name, a mention and a relation, 0.525 for a public figure, 0.75 for a likeness source. Lines
12293-13145 (December 2026, fourth round) are more word collisions (place names, surnames, food,
hardware, sport, code, idioms) and spaced, dotted and emoji look-alikes, each kind beside lines that
use the same words in their unsafe sense, and plain sexual requests about anonymous adults (mild and
indirect ones: nudity without a verb, euphemisms, slang) with their non-sexual near misses
(affection, bodies in sport and medicine, idioms): the eval trap set's wrong blocks fell from 2.2%
to 1.8%. Lines 11228-12292 (December 2026, third round) are word collisions and emoji
look-alikes (roosters, cocktails, Scunthorpe, dykes that hold back the sea, eggplant emoji in
recipes), each beside lines that use the same words in their unsafe sense, and harms dressed in
sexual words (gore, self-harm, harassment, hate) beside consensual adult requests whose words only
look violent, which an NSFW channel allows. Lines
6121-9186 of train.jsonl (December 2026) are sexual requests about real people and ordinary
mentions of them, explicit requests about consenting adults (anonymous or fictional), safe
look-alikes (word collisions, children in wholesome scenes, idioms, spaced-out and emoji requests),
people supporting someone who struggles and their first-person near misses, and harms dressed in
sexual words: eval's unsafe caught rose from 97.0% to 99.3%, explicit adult requests allowed in
NSFW channels to 100%. Lines 3206-5095 are written the way people ask the bot for a clip
("make a clip of ...", "/react ...", bare prompts) in every category, with their near-miss safe
requests, and harms dressed in sexual words that an NSFW channel must still block; before them only
about 5% of the harassment, hate and self-harm examples were requests. Lines 5096-6120 are harms
carried by meaning alone (plans and eating-disorder goals with no stock word, violence described by
what happens to a body, bigotry without slurs, harassment without insults) and their near misses.
Tuning more layers (from layer 2: four tuned layers) caught 0.6 points more out of fold on the
5095-line set, at twice the training time and about 1.5 ms more per message; not worth it yet.
A 2% everyday budget catches a few points more and blocks about four times as many ordinary
requests; refusing people who did nothing wrong is the worse failure for this product, so the
budget stays at 1%.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reactclip.moderation.categories import Category
from reactclip.moderation.lexicon import Lexicon
from reactclip.moderation.ngram import MODEL_FILE as NGRAM_MODEL_FILE
from reactclip.moderation.ngram import ngram_features
from reactclip.moderation.real_person import RealPersonFinder
from reactclip.moderation.semantic import HEAD_FILE, MODEL_FILE, SemanticThresholds
from reactclip.textmodel.embedder import Encoded, SentenceEmbedder
from reactclip.textmodel.normalize import normalize
from reactclip.textmodel.training import (
    HEAD_BATCH,
    HEAD_EPOCHS,
    HEAD_LEARNING_RATE,
    HEAD_START_LAYER,
    OUT_LEARNING_RATE,
    encode_all,
    fit_head,
    head_probabilities,
)
from reactclip.textmodel.tuned import head_metadata

if TYPE_CHECKING:
    import torch

DATA_DIR = Path(str(resources.files("reactclip.moderation") / "data"))
NGRAM_C = 10.0
NGRAM_MIN_DF = 2
BLEND_WEIGHTS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0)
RECALL_TARGET = 0.97
MAX_SAFE_FLAGGED = 0.05
"""The share of safe examples the layer may flag beyond what the lexicon already flags, out of fold.
Half of train.jsonl's safe lines are hard negatives (banter, hyperbole, news, identity terms), so
this is far above the rate on real chat: the previous embedding-only layer flagged 6-7% of them here
and wrongly blocked about 1.4% of realistic safe messages. The budget stays below that operating
point and spends the blend's gain on catching more."""
MAX_EVERYDAY_FLAGGED = 0.01
"""The share of everyday messages (see EVERYDAY_DATA) the layer may flag: what realistic safe traffic
mostly looks like, so this budget is what keeps ordinary requests from being refused."""
EVERYDAY_DATA = Path(str(resources.files("reactclip.textmodel") / "data" / "chat_messages.jsonl"))
"""Ordinary Discord messages labelled for emotion, all safe: extra NONE examples at training time
only (a data file, read by this dev tool; run-time moderation still imports nothing of the engine).
Lines the lexicon flags are left out, so an angry "I'll kill him" never teaches the layer that
threats are fine."""
MINORS_MAX_THRESHOLD = 0.15
REAL_PERSON_MAX_FLAGGED = 0.02
"""The share of safe lines about a real, identifiable person (and with no sexualising word) that the
real-person threshold may make sexual, out of fold: "Taylor Swift dancing on stage" must stay a clip."""
REAL_PERSON_FLOOR = 0.5
"""No real-person threshold goes below this: the layer must at least lean sexual. Out of fold on the
easy safe lines of train.jsonl the budget alone chose 0.075 for relations, which then blocked "my
coworker got promoted, party clip" on eval/real_people.jsonl's kind of text."""
REAL_PERSON_MIN_EXAMPLES = 30
"""Kinds of identity with fewer safe lines than this are too few to set the threshold."""
ANY_UNSAFE = 0.8
"""Where the search starts the any-unsafe sum (SemanticThresholds.any_unsafe); it may raise it."""
_GRID = np.round(np.arange(0.05, 0.951, 0.025), 3)
_ANY_UNSAFE_GRID = np.array([0.8, 0.85, 0.9, 0.95, 1.01])
_FLOOR = 0.2  # below this a category's threshold would flag on noise


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def training_sha256(data: Path = DATA_DIR / "train.jsonl", everyday: Path = EVERYDAY_DATA) -> str:
    """One hash over every file the shipped weights were trained on, so a test can tell them stale."""
    return hashlib.sha256(f"{file_sha256(data)}:{file_sha256(everyday)}".encode()).hexdigest()


def load_everyday(path: Path, lexicon: Lexicon) -> list[str]:
    texts = [
        json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return [t for t in texts if not lexicon.find(normalize(t))]


def load_examples(path: Path) -> tuple[list[str], list[Category]]:
    texts, labels = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        try:
            labels.append(Category(row["category"]))
        except ValueError:
            raise ValueError(f"{path}:{number}: unknown category {row['category']!r}") from None
        texts.append(row["text"])
    return texts, labels


@dataclass
class NgramFit:
    vocabulary: list[str]
    idf: np.ndarray
    coef: np.ndarray
    """(n-grams, classes)"""
    intercept: np.ndarray
    classes: list[Category]
    vectorizer: Any
    model: Any


def fit_ngrams(normalized: list[str], labels: list[Category]) -> NgramFit:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(
        analyzer=ngram_features, sublinear_tf=True, min_df=NGRAM_MIN_DF, dtype=np.float32
    )
    features = vectorizer.fit_transform(normalized)
    model = LogisticRegression(C=NGRAM_C, max_iter=5000)
    model.fit(features, [c.value for c in labels])
    vocabulary = [""] * len(vectorizer.vocabulary_)
    for feature, column in vectorizer.vocabulary_.items():
        vocabulary[column] = feature
    return NgramFit(
        vocabulary,
        vectorizer.idf_.astype(np.float32),
        model.coef_.T.astype(np.float32),
        model.intercept_.astype(np.float32),
        [Category(c) for c in model.classes_],
        vectorizer,
        model,
    )


def out_of_fold(
    encoded: Encoded,
    normalized: list[str],
    labels: list[Category],
    layers: torch.nn.ModuleList,
    folds: int = 5,
) -> tuple[np.ndarray, np.ndarray, list[Category]]:
    """Out-of-fold class probabilities of the tuned head and the n-gram model (same columns)."""
    from sklearn.model_selection import StratifiedKFold

    y = np.array([c.value for c in labels])
    classes = sorted(set(labels), key=lambda c: c.value)
    p_head = np.zeros((len(labels), len(classes)), dtype=np.float32)
    p_ngram = np.zeros_like(p_head)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for fold, (train_idx, test_idx) in enumerate(splitter.split(np.zeros(len(y)), y), start=1):
        train_labels = [labels[i] for i in train_idx]
        head = fit_head(encoded.take(train_idx.tolist()), train_labels, classes, layers)
        p_head[test_idx] = head_probabilities(head, encoded.take(test_idx.tolist()))
        ngrams = fit_ngrams([normalized[i] for i in train_idx], train_labels)
        assert ngrams.classes == classes
        features = ngrams.vectorizer.transform([normalized[i] for i in test_idx])
        p_ngram[test_idx] = ngrams.model.predict_proba(features)
        print(f"  fold {fold} of {folds} done", flush=True)
    return p_head, p_ngram, classes


def save_out_of_fold(
    path: Path, sha: str, p_head: np.ndarray, p_ngram: np.ndarray, classes: list[Category]
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        p_head=p_head,
        p_ngram=p_ngram,
        classes=np.array([c.value for c in classes]),
        train_sha256=np.array(sha),
        settings=np.array(_fit_settings()),
    )


def load_out_of_fold(path: Path, sha: str) -> tuple[np.ndarray, np.ndarray, list[Category]] | None:
    """What ``save_out_of_fold`` wrote, if it is for this training data and these fit settings."""
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        if str(data["train_sha256"]) != sha or str(data["settings"]) != _fit_settings():
            return None
        return data["p_head"], data["p_ngram"], [Category(str(c)) for c in data["classes"]]


def _fit_settings() -> str:
    head = [HEAD_START_LAYER, HEAD_EPOCHS, HEAD_LEARNING_RATE, OUT_LEARNING_RATE, HEAD_BATCH]
    return json.dumps([*head, NGRAM_C, NGRAM_MIN_DF])


def flagged_by(
    probabilities: np.ndarray, thresholds: np.ndarray, unsafe: np.ndarray, any_unsafe: float
) -> np.ndarray:
    """Rows the layer flags in a standard non-NSFW channel (SemanticClassifier.findings, vectorised)."""
    over = (probabilities[:, unsafe] >= thresholds[unsafe]).any(axis=1)
    return over | (probabilities[:, unsafe].sum(axis=1) >= any_unsafe)


def blocked_mask(classes: list[Category], adult_allowed: bool) -> np.ndarray:
    """Which classes a context blocks: every unsafe one, less sexual where adult content is allowed."""
    allowed = {Category.NONE, Category.SEXUAL} if adult_allowed else {Category.NONE}
    return np.array([c not in allowed for c in classes])


def choose_thresholds(
    probabilities: np.ndarray,
    labels: list[Category],
    classes: list[Category],
    lexicon_hits: np.ndarray,
    everyday: np.ndarray,
) -> tuple[np.ndarray, float]:
    """Per-class thresholds (NONE gets 1.0) and the any-unsafe sum for lexicon + layer, on
    out-of-fold probabilities."""
    y = np.array([classes.index(c) for c in labels])
    unsafe = blocked_mask(classes, adult_allowed=False)
    safe_rows = y == classes.index(Category.NONE)
    hard_safe_rows = safe_rows & ~everyday
    minors = classes.index(Category.SEXUAL_MINORS)
    # The any-unsafe sum rides along as one more threshold, in the last column.
    thresholds = np.append(np.where(unsafe, _GRID[-1], 1.0), ANY_UNSAFE)
    knobs = [*np.flatnonzero(unsafe), len(classes)]

    def blocked(t: np.ndarray) -> np.ndarray:
        return lexicon_hits | flagged_by(probabilities, t[:-1], unsafe, t[-1])

    def recall(t: np.ndarray, k: int | np.integer) -> float:
        # The layer alone: the lexicon was written with these examples in view, so counting its
        # catches here would set thresholds that only hold on the training data.
        rows = y == k
        return float(flagged_by(probabilities, t[:-1], unsafe, t[-1])[rows].mean()) if rows.any() else 1.0

    for _ in range(3):  # categories catch each other's rows: settle in a few passes
        for k in np.flatnonzero(unsafe):
            ceiling = MINORS_MAX_THRESHOLD if k == minors else _GRID[-1]
            candidates = [g for g in _GRID[::-1] if g <= ceiling and (g >= _FLOOR or k == minors)]
            chosen = candidates[-1]
            for g in candidates:
                trial = thresholds.copy()
                trial[k] = g
                if recall(trial, k) >= RECALL_TARGET:
                    chosen = g
                    break
            thresholds[k] = chosen

    # Over the false-flag budget: raise the threshold that spares most safe rows per unsafe row lost.
    def over_budget(t: np.ndarray) -> bool:
        added = blocked(t) & ~lexicon_hits
        everyday_over = everyday.any() and added[everyday].mean() > MAX_EVERYDAY_FLAGGED
        return bool(added[hard_safe_rows].mean() > MAX_SAFE_FLAGGED or everyday_over)

    while over_budget(thresholds):
        now = blocked(thresholds)
        best, best_score = None, -1.0
        for k in knobs:
            ceiling = MINORS_MAX_THRESHOLD if k == minors else 1.01
            grid = _ANY_UNSAFE_GRID if k == len(classes) else _GRID
            for higher in grid[(grid > thresholds[k]) & (grid <= ceiling)]:
                trial = thresholds.copy()
                trial[k] = higher
                after = blocked(trial)
                spared = int((now & ~after)[safe_rows].sum())
                lost = int((now & ~after)[~safe_rows].sum())
                score = spared / (lost + 0.5)
                if spared and score > best_score:
                    best, best_score = trial, score
        if best is None:
            break
        thresholds = best
    return thresholds[:-1], float(thresholds[-1])


def report(
    name: str,
    probabilities: np.ndarray,
    thresholds: np.ndarray,
    labels: list[Category],
    classes: list[Category],
    lexicon_hits: np.ndarray,
    any_unsafe: float,
    everyday: np.ndarray,
    unsafe: np.ndarray,
) -> float:
    """Print per-category catch rates in a context that blocks the ``unsafe`` classes; return the
    mean catch over them (lexicon + layer)."""
    y = np.array([classes.index(c) for c in labels])
    layer = flagged_by(probabilities, thresholds, unsafe, any_unsafe)
    both = layer | lexicon_hits
    print(f"  {name}, any-unsafe sum {any_unsafe:.2f}")
    catches = []
    for k, category in enumerate(classes):
        rows = y == k
        if not unsafe[k]:
            if category is not Category.NONE:
                print(f"    {category.value:14s} flagged  layer {layer[rows].mean():6.1%}  of {rows.sum()}")
                continue
            for part, mask in (("hard safe", rows & ~everyday), ("everyday", rows & everyday)):
                print(
                    f"    {part:9s} flagged  layer {layer[mask].mean():6.1%}"
                    f"  lexicon+layer {both[mask].mean():6.1%}  of {mask.sum()}"
                )
        else:
            catches.append(both[rows].mean())
            print(
                f"    {category.value:14s} layer {layer[rows].mean():6.1%}"
                f"  lexicon+layer {both[rows].mean():6.1%}  threshold {thresholds[k]:.3f}  of {rows.sum()}"
            )
    return float(np.mean(catches))


def choose_real_person_thresholds(
    p_sexual: np.ndarray, labels: list[Category], normalized: list[str], lexicon_found: list[set[Category]]
) -> dict[str, float]:
    """Per kind of identity with enough examples: the lowest sexual probability (not below
    REAL_PERSON_FLOOR) at which at most REAL_PERSON_MAX_FLAGGED of the safe lines that point at a
    real person that way (and hold no sexualising word) would be read as sexual, out of fold. Per
    kind, because the layer's prior differs: a celebrity's name alone leans sexual (so many
    requests about celebrities are), "my friend" does not. Prints how many sexual lines about real
    people the layer then catches beyond the words."""
    finder = RealPersonFinder()
    cues = [finder.find(n) for n in normalized]
    pairs = zip(normalized, lexicon_found, strict=True)
    worded = np.array([finder.is_sexualising(n) or Category.SEXUAL in found for n, found in pairs])
    label = np.array([c.value for c in labels])
    kinds = np.array([cue.identity.value if cue is not None else "" for cue in cues])
    safe = (kinds != "") & ~worded & (label == Category.NONE.value)
    sexual = (kinds != "") & ~worded & (label == Category.SEXUAL.value)
    thresholds: dict[str, float] = {}
    for kind in sorted(set(kinds[safe])):
        rows = safe & (kinds == kind)
        if rows.sum() < REAL_PERSON_MIN_EXAMPLES:
            continue
        within = [t for t in _GRID if float(np.mean(p_sexual[rows] >= t)) <= REAL_PERSON_MAX_FLAGGED]
        thresholds[kind] = max(REAL_PERSON_FLOOR, float(within[0]) if within else float(_GRID[-1]))
    applied = np.array([thresholds.get(k, SemanticThresholds.real_person_default) for k in kinds])
    flagged = p_sexual >= applied
    caught = float(np.mean(flagged[sexual])) if sexual.any() else float("nan")
    print(
        "real-person sexual thresholds: "
        + ", ".join(f"{k} {t:.3f}" for k, t in thresholds.items())
        + f"; they flag {np.mean(flagged[safe]):.1%} of {int(safe.sum())} safe lines about a real person"
        f" and catch {caught:.1%} of {int(sexual.sum())} sexual lines about a real person that no word marks"
    )
    return thresholds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR / "train.jsonl")
    parser.add_argument("--everyday", type=Path, default=EVERYDAY_DATA)
    parser.add_argument("--out", type=Path, default=DATA_DIR / MODEL_FILE)
    parser.add_argument("--ngram-out", type=Path, default=DATA_DIR / NGRAM_MODEL_FILE)
    parser.add_argument("--head-out", type=Path, default=DATA_DIR / HEAD_FILE)
    parser.add_argument(
        "--oof-cache",
        type=Path,
        help="read the out-of-fold probabilities from this .npz when it holds them for the same "
        "training data, else write them there (to iterate on the threshold search)",
    )
    parser.add_argument(
        "--thresholds-only",
        action="store_true",
        help="choose the blend and thresholds again but keep the head and n-gram model in place "
        "(they must have been trained on the same data)",
    )
    args = parser.parse_args(argv)

    import torch

    torch.manual_seed(0)
    lexicon = Lexicon()
    texts, labels = load_examples(args.data)
    extra = load_everyday(args.everyday, lexicon)
    everyday = np.array([False] * len(texts) + [True] * len(extra))
    texts, labels = texts + extra, labels + [Category.NONE] * len(extra)
    normalized = [normalize(t) for t in texts]
    sha = training_sha256(args.data, args.everyday)
    if args.thresholds_only and head_metadata(args.head_out).get("train_sha256") != sha:
        raise SystemExit(f"{args.head_out} was trained on other data: train without --thresholds-only")
    embedder = SentenceEmbedder()
    layers = embedder.encoder_layers()
    # Encoded once, and only if a head is fitted (not with cached out-of-fold and --thresholds-only).
    encoded_texts = functools.cache(lambda: encode_all(embedder, normalized, HEAD_START_LAYER))

    lexicon_found = [{hit.category for hit in lexicon.find(n)} for n in normalized]
    lexicon_hits = np.array([bool(found) for found in lexicon_found])
    # In an NSFW channel the lexicon's sexual finds are allowed; every other find still blocks.
    lexicon_hits_adult = np.array([bool(found - {Category.SEXUAL}) for found in lexicon_found])

    # 1-2: blend weight and thresholds, both on out-of-fold probabilities.
    cached = load_out_of_fold(args.oof_cache, sha) if args.oof_cache else None
    if cached is None:
        p_head, p_ngram, classes = out_of_fold(encoded_texts(), normalized, labels, layers)
        if args.oof_cache:
            save_out_of_fold(args.oof_cache, sha, p_head, p_ngram, classes)
    else:
        p_head, p_ngram, classes = cached
        print(f"out-of-fold probabilities from {args.oof_cache}")
    print(f"out-of-fold (5 folds), {len(texts)} examples; target: the layer catches {RECALL_TARGET:.0%}")
    print(f"per category, flagging <= {MAX_SAFE_FLAGGED:.0%} of safe beyond the lexicon", end="; ")
    print(f"sexual_minors <= {MINORS_MAX_THRESHOLD}")
    best_weight, best_catch, best_thresholds, best_any = 0.0, -1.0, np.ones(len(classes)), ANY_UNSAFE
    unsafe, unsafe_adult = blocked_mask(classes, False), blocked_mask(classes, True)
    for weight in BLEND_WEIGHTS:
        blended = (1 - weight) * p_head + weight * p_ngram
        thresholds, any_unsafe = choose_thresholds(blended, labels, classes, lexicon_hits, everyday)
        catch = report(
            f"n-gram weight {weight}",
            blended,
            thresholds,
            labels,
            classes,
            lexicon_hits,
            any_unsafe,
            everyday,
            unsafe,
        )
        if catch > best_catch + 1e-9:
            best_weight, best_catch, best_thresholds, best_any = weight, catch, thresholds, any_unsafe
    print(f"chosen n-gram weight {best_weight} (mean catch {best_catch:.1%}), thresholds:")
    print("  " + ", ".join(f"{c.value} {t:.3f}" for c, t in zip(classes, best_thresholds, strict=True)))
    print(f"  any-unsafe sum {best_any:.2f}")
    report(
        "NSFW channel (sexual allowed), the same thresholds",
        (1 - best_weight) * p_head + best_weight * p_ngram,
        best_thresholds,
        labels,
        classes,
        lexicon_hits_adult,
        best_any,
        everyday,
        unsafe_adult,
    )

    p_sexual = ((1 - best_weight) * p_head + best_weight * p_ngram)[:, classes.index(Category.SEXUAL)]
    real_person = choose_real_person_thresholds(p_sexual, labels, normalized, lexicon_found)

    # 3: the shipped models, fitted on everything.
    np.savez(
        args.out,
        classes=np.array([c.value for c in classes]),
        thresholds=best_thresholds.astype(np.float32),
        any_unsafe=np.array(best_any, dtype=np.float32),
        ngram_weight=np.array(best_weight, dtype=np.float32),
        real_person_kinds=np.array(list(real_person)),
        real_person_sexual=np.array(list(real_person.values()), dtype=np.float32),
        train_sha256=np.array(sha),
    )
    if args.thresholds_only:
        print(f"wrote {args.out}; kept {args.head_out} and {args.ngram_out}")
        return
    fit_head(encoded_texts(), labels, classes, layers).save(args.head_out, {"train_sha256": sha})
    ngrams = fit_ngrams(normalized, labels)
    assert ngrams.classes == classes
    np.savez_compressed(
        args.ngram_out,
        vocabulary=np.array("\n".join(ngrams.vocabulary)),
        idf=ngrams.idf,
        coef=ngrams.coef,
        intercept=ngrams.intercept,
        classes=np.array([c.value for c in classes]),
        train_sha256=np.array(sha),
    )
    print(
        f"wrote {args.head_out}, {args.out} and {args.ngram_out} ({len(texts)} examples, "
        f"{len(extra)} of them everyday, {len(ngrams.vocabulary)} n-grams)"
    )


if __name__ == "__main__":
    main()
