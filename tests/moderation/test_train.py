"""The threshold search of train.py on synthetic out-of-fold probabilities (what it catches and what
it spends of the false-flag budget), and its out-of-fold cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reactclip.moderation.categories import Category
from reactclip.moderation.train import (
    MAX_SAFE_FLAGGED,
    MINORS_MAX_THRESHOLD,
    REAL_PERSON_FLOOR,
    REAL_PERSON_MAX_FLAGGED,
    RECALL_TARGET,
    blocked_mask,
    choose_real_person_thresholds,
    choose_thresholds,
    flagged_by,
    load_out_of_fold,
    save_out_of_fold,
)

CLASSES = sorted(Category, key=lambda c: c.value)


def rows(count: int, label: Category, shares: dict[Category, tuple[float, float]], seed: int) -> np.ndarray:
    """``count`` probability rows: each category in ``shares`` drawn uniformly from its range, NONE
    takes the rest."""
    generator = np.random.default_rng(seed)
    out = np.zeros((count, len(CLASSES)), dtype=np.float32)
    for category, (low, high) in shares.items():
        out[:, CLASSES.index(category)] = generator.uniform(low, high, count)
    out[:, CLASSES.index(Category.NONE)] = 1.0 - out.sum(axis=1)
    assert (out >= 0).all()
    return out


@pytest.fixture(scope="module")
def synthetic() -> tuple[np.ndarray, list[Category]]:
    """Harassment with a signal that sexual words drain (as in the shipped model): clean harassment
    reads 0.45-0.95 harassment, harassment in sexual words 0.15-0.4 with 0.45-0.6 sexual; consensual
    sexual examples read 0.4-0.95 sexual; safe ones up to 0.3 harassment."""
    parts = [
        (rows(300, Category.HARASSMENT, {Category.HARASSMENT: (0.45, 0.95)}, 1), Category.HARASSMENT),
        (
            rows(
                100, Category.HARASSMENT, {Category.HARASSMENT: (0.15, 0.4), Category.SEXUAL: (0.45, 0.6)}, 2
            ),
            Category.HARASSMENT,
        ),
        (
            rows(200, Category.SEXUAL, {Category.SEXUAL: (0.4, 0.95), Category.HARASSMENT: (0.0, 0.05)}, 3),
            Category.SEXUAL,
        ),
        (rows(100, Category.SEXUAL_MINORS, {Category.SEXUAL_MINORS: (0.3, 0.9)}, 4), Category.SEXUAL_MINORS),
        (rows(800, Category.NONE, {Category.HARASSMENT: (0.0, 0.3)}, 5), Category.NONE),
    ]
    probabilities = np.concatenate([p for p, _ in parts])
    labels = [label for p, label in parts for _ in range(len(p))]
    return probabilities, labels


def test_thresholds_catch_the_target_within_the_budgets(synthetic: tuple[np.ndarray, list[Category]]) -> None:
    probabilities, labels = synthetic
    y = np.array(labels)
    nothing = np.zeros(len(labels), dtype=bool)
    thresholds, any_unsafe = choose_thresholds(probabilities, labels, CLASSES, nothing, nothing)
    flagged = flagged_by(probabilities, thresholds, blocked_mask(CLASSES, adult_allowed=False), any_unsafe)
    assert flagged[y == Category.NONE].mean() <= MAX_SAFE_FLAGGED
    assert thresholds[CLASSES.index(Category.SEXUAL_MINORS)] <= MINORS_MAX_THRESHOLD
    assert thresholds[CLASSES.index(Category.NONE)] == 1.0
    for category in (Category.HARASSMENT, Category.SEXUAL, Category.SEXUAL_MINORS):
        assert flagged[y == category].mean() >= RECALL_TARGET
    # Where the classes overlap the budget wins: safe rows reach 0.3 harassment, so the threshold
    # stays above most of them and the weakest harassment is let through.
    assert thresholds[CLASSES.index(Category.HARASSMENT)] > 0.25


def test_out_of_fold_cache_is_for_one_training_set(tmp_path: Path) -> None:
    path = tmp_path / "oof.npz"
    p_head = np.random.default_rng(0).random((5, len(CLASSES))).astype(np.float32)
    save_out_of_fold(path, "sha-a", p_head, p_head * 2, CLASSES)
    loaded = load_out_of_fold(path, "sha-a")
    assert loaded is not None
    assert np.array_equal(loaded[0], p_head) and np.array_equal(loaded[1], p_head * 2)
    assert loaded[2] == CLASSES
    assert load_out_of_fold(path, "sha-b") is None
    assert load_out_of_fold(tmp_path / "missing.npz", "sha-a") is None


def test_real_person_thresholds_keep_ordinary_mentions_allowed_per_kind_of_identity() -> None:
    normalized = [
        *(f"taylor swift dancing on stage {i}" for i in range(50)),  # safe, a public figure
        *(f"my ex in a hot tub, make it spicy {i}" for i in range(50)),  # sexual, no sexualising word
        *(f"my friend got promoted {i}" for i in range(50)),  # safe, a relation
        "two adults in a hot tub",  # no person: never counts
    ]
    labels = [Category.NONE] * 50 + [Category.SEXUAL] * 50 + [Category.NONE] * 51
    # A celebrity's name leans sexual (0.10-0.59), "my friend" does not (0.00-0.10).
    p_sexual = np.array(
        [0.1 + i / 100 for i in range(50)]
        + [0.45 + i / 100 for i in range(50)]
        + [i / 500 for i in range(50)]
        + [0.99]
    )
    thresholds = choose_real_person_thresholds(p_sexual, labels, normalized, [set() for _ in normalized])
    assert set(thresholds) == {"public_figure", "relation"}
    for kind, rows in (("public_figure", slice(0, 50)), ("relation", slice(100, 150))):
        assert np.mean(p_sexual[rows] >= thresholds[kind]) <= REAL_PERSON_MAX_FLAGGED
    assert thresholds["relation"] == REAL_PERSON_FLOOR  # the budget alone would allow 0.10
    assert REAL_PERSON_FLOOR < thresholds["public_figure"] <= 0.6
    assert np.mean(p_sexual[50:100] >= thresholds["relation"]) >= 0.8  # "my ex": a relation
