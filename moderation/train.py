"""Retrain the semantic layer: ``python -m reactclip.moderation.train``.

Reads data/train.jsonl ({"text", "category"} per line) and normalises each text exactly as run time
does. Fits two multinomial logistic regressions on it: one over MiniLM embeddings, one over TF-IDF
character and word n-grams (ngram.py). Then, on 5-fold out-of-fold probabilities:

1. picks the blend weight of the two models (the one that catches most unsafe examples at the
   false-flag budget below);
2. picks per-category thresholds: the highest threshold at which the layer alone catches
   RECALL_TARGET of each unsafe category, then raised where needed (cheapest first) until the layer
   flags at most MAX_SAFE_FLAGGED of the safe examples beyond those the lexicon flags. sexual_minors
   never goes above MINORS_MAX_THRESHOLD.

The lexicon runs first at run time, so the report shows the layer alone and lexicon + layer.
Writes data/semantic_model.npz (embedding weights, blend weight, thresholds) and
data/ngram_model.npz (n-gram vocabulary, idf, weights), each with the sha256 of the training file
so a test can tell stale weights. scikit-learn is needed here only (the dev extra), never at run time.

Last run (2138 examples + 1566 everyday messages; out of fold, lexicon + layer; the layer flags at
most 5% of the hard negatives and 1% of everyday messages): blend weight 0.5, thresholds harassment
0.375, hate 0.45, self_harm 0.425, sexual 0.50, sexual_minors 0.15, violence_gore 0.425, any-unsafe
sum 0.80. Caught: harassment 88.3%, hate 89.5%, self_harm 80.1%, sexual 80.8%, sexual_minors 99.1%,
violence_gore 84.6%; flagged: hard negatives 5.5%, everyday 1.0%. A 2% everyday budget catches a
few points more and blocks about four times as many ordinary requests; refusing people who did
nothing wrong is the worse failure for this product, so the budget stays at 1%.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from reactclip.moderation.categories import Category
from reactclip.moderation.embedder import SentenceEmbedder
from reactclip.moderation.lexicon import Lexicon
from reactclip.moderation.ngram import MODEL_FILE as NGRAM_MODEL_FILE
from reactclip.moderation.ngram import ngram_features
from reactclip.moderation.normalize import normalize
from reactclip.moderation.semantic import MODEL_FILE

DATA_DIR = Path(str(resources.files("reactclip.moderation") / "data"))
EMBEDDING_C = 4.0
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
EVERYDAY_DATA = Path(str(resources.files("reactclip.engine.prompting") / "data" / "emotion_train.jsonl"))
"""Ordinary Discord messages labelled for emotion, all safe: extra NONE examples at training time
only (a data file, read by this dev tool; run-time moderation still imports nothing of the engine).
Lines the lexicon flags are left out, so an angry "I'll kill him" never teaches the layer that
threats are fine."""
MINORS_MAX_THRESHOLD = 0.15
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


def fit(embeddings: np.ndarray, labels: list[Category]) -> tuple[np.ndarray, np.ndarray, list[Category]]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=EMBEDDING_C, max_iter=5000)
    model.fit(embeddings, [c.value for c in labels])
    classes = [Category(c) for c in model.classes_]
    return model.coef_.astype(np.float32), model.intercept_.astype(np.float32), classes


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
    embeddings: np.ndarray, normalized: list[str], labels: list[Category], folds: int = 5
) -> tuple[np.ndarray, np.ndarray, list[Category]]:
    """Out-of-fold class probabilities of the embedding and the n-gram model (same columns)."""
    from sklearn.model_selection import StratifiedKFold

    y = np.array([c.value for c in labels])
    classes = sorted(set(labels), key=lambda c: c.value)
    p_embedding = np.zeros((len(labels), len(classes)), dtype=np.float32)
    p_ngram = np.zeros_like(p_embedding)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train_idx, test_idx in splitter.split(embeddings, y):
        train_labels = [labels[i] for i in train_idx]
        coef, intercept, fold_classes = fit(embeddings[train_idx], train_labels)
        assert fold_classes == classes
        logits = embeddings[test_idx] @ coef.T + intercept
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        p_embedding[test_idx] = exp / exp.sum(axis=1, keepdims=True)
        ngrams = fit_ngrams([normalized[i] for i in train_idx], train_labels)
        features = ngrams.vectorizer.transform([normalized[i] for i in test_idx])
        p_ngram[test_idx] = ngrams.model.predict_proba(features)
    return p_embedding, p_ngram, classes


def flagged_by(
    probabilities: np.ndarray, thresholds: np.ndarray, unsafe: np.ndarray, any_unsafe: float
) -> np.ndarray:
    """Rows the layer flags in a standard non-NSFW channel (SemanticClassifier.findings, vectorised)."""
    over = (probabilities[:, unsafe] >= thresholds[unsafe]).any(axis=1)
    return over | (probabilities[:, unsafe].sum(axis=1) >= any_unsafe)


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
    unsafe = np.array([c is not Category.NONE for c in classes])
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
        return float(flagged_by(probabilities, t[:-1], unsafe, t[-1])[y == k].mean())

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
) -> float:
    """Print per-category catch rates; return the mean catch over unsafe categories (lexicon + layer)."""
    y = np.array([classes.index(c) for c in labels])
    unsafe = np.array([c is not Category.NONE for c in classes])
    layer = flagged_by(probabilities, thresholds, unsafe, any_unsafe)
    both = layer | lexicon_hits
    print(f"  {name}, any-unsafe sum {any_unsafe:.2f}")
    catches = []
    for k, category in enumerate(classes):
        rows = y == k
        if category is Category.NONE:
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR / "train.jsonl")
    parser.add_argument("--everyday", type=Path, default=EVERYDAY_DATA)
    parser.add_argument("--out", type=Path, default=DATA_DIR / MODEL_FILE)
    parser.add_argument("--ngram-out", type=Path, default=DATA_DIR / NGRAM_MODEL_FILE)
    args = parser.parse_args(argv)

    import torch

    torch.manual_seed(0)
    lexicon = Lexicon()
    texts, labels = load_examples(args.data)
    extra = load_everyday(args.everyday, lexicon)
    everyday = np.array([False] * len(texts) + [True] * len(extra))
    texts, labels = texts + extra, labels + [Category.NONE] * len(extra)
    normalized = [normalize(t) for t in texts]
    embeddings = SentenceEmbedder().encode(normalized)
    lexicon_hits = np.array([bool(lexicon.find(n)) for n in normalized])

    # 1-2: blend weight and thresholds, both on out-of-fold probabilities.
    p_embedding, p_ngram, classes = out_of_fold(embeddings, normalized, labels)
    print(f"out-of-fold (5 folds), {len(texts)} examples; target: the layer catches {RECALL_TARGET:.0%}")
    print(f"per category, flagging <= {MAX_SAFE_FLAGGED:.0%} of safe beyond the lexicon", end="; ")
    print(f"sexual_minors <= {MINORS_MAX_THRESHOLD}")
    best_weight, best_catch, best_thresholds, best_any = 0.0, -1.0, np.ones(len(classes)), ANY_UNSAFE
    for weight in BLEND_WEIGHTS:
        blended = (1 - weight) * p_embedding + weight * p_ngram
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
        )
        if catch > best_catch + 1e-9:
            best_weight, best_catch, best_thresholds, best_any = weight, catch, thresholds, any_unsafe
    print(f"chosen n-gram weight {best_weight} (mean catch {best_catch:.1%}), thresholds:")
    print("  " + ", ".join(f"{c.value} {t:.3f}" for c, t in zip(classes, best_thresholds, strict=True)))
    print(f"  any-unsafe sum {best_any:.2f}")

    # 3: the shipped models, fitted on everything.
    coef, intercept, fitted_classes = fit(embeddings, labels)
    assert fitted_classes == classes
    ngrams = fit_ngrams(normalized, labels)
    assert ngrams.classes == classes
    sha = np.array(training_sha256(args.data, args.everyday))
    np.savez(
        args.out,
        coef=coef,
        intercept=intercept,
        classes=np.array([c.value for c in classes]),
        thresholds=best_thresholds.astype(np.float32),
        any_unsafe=np.array(best_any, dtype=np.float32),
        ngram_weight=np.array(best_weight, dtype=np.float32),
        train_sha256=sha,
    )
    np.savez_compressed(
        args.ngram_out,
        vocabulary=np.array("\n".join(ngrams.vocabulary)),
        idf=ngrams.idf,
        coef=ngrams.coef,
        intercept=ngrams.intercept,
        classes=np.array([c.value for c in classes]),
        train_sha256=sha,
    )
    print(
        f"wrote {args.out} and {args.ngram_out} ({len(texts)} examples, {len(extra)} of them everyday, "
        f"{len(ngrams.vocabulary)} n-grams)"
    )


if __name__ == "__main__":
    main()
