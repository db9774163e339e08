"""What train_emotion fits on the head's out-of-fold readings: the temperature, the neutral floor and
the intensity regression, each on readings built so that the right answer is known."""

from __future__ import annotations

import numpy as np

from reactclip.engine.mood import Intensity, Mood
from reactclip.engine.prompting.cues import read_cues
from reactclip.engine.prompting.emotion import EmotionModel, cue_features, joint_label, joint_labels
from reactclip.engine.prompting.train_emotion import (
    Example,
    choose_neutral_floor,
    fit_intensity,
    fit_temperature,
)

LABELS = joint_labels()


def readings(rows: list[dict[str, float]]) -> np.ndarray:
    """Head probabilities, one row per dict of label -> weight (the rest share a little)."""
    out = np.full((len(rows), len(LABELS)), 1e-3)
    for i, row in enumerate(rows):
        for label, weight in row.items():
            out[i, LABELS.index(label)] = weight
    return out / out.sum(axis=1, keepdims=True)


def test_joint_labels_cover_every_mood_and_neutral_only_low() -> None:
    assert len(LABELS) == len(set(LABELS)) == (len(Mood) - 1) * len(Intensity) + 1
    assert joint_label(Mood.NEUTRAL, Intensity.HIGH) == "neutral/low"
    assert "neutral/high" not in LABELS


def test_overconfident_readings_get_a_temperature_above_one() -> None:
    # Always 95% sure of joy, right only 60% of the time.
    examples = [Example("x", Mood.JOY if i < 60 else Mood.SADNESS, Intensity.MEDIUM) for i in range(100)]
    probabilities = readings([{"joy/medium": 0.95, "sadness/medium": 0.05}] * 100)
    model = EmotionModel(classes=tuple(LABELS), train_sha256="")
    assert fit_temperature(model, probabilities, examples) >= 1.4


def test_well_calibrated_readings_keep_a_temperature_near_one() -> None:
    examples = [Example("x", Mood.JOY if i < 80 else Mood.SADNESS, Intensity.MEDIUM) for i in range(100)]
    probabilities = readings([{"joy/medium": 0.8, "sadness/medium": 0.2}] * 100)
    model = EmotionModel(classes=tuple(LABELS), train_sha256="")
    assert 0.7 <= fit_temperature(model, probabilities, examples) <= 1.3


def test_a_neutral_floor_is_chosen_where_weak_readings_are_neutral() -> None:
    # Plain statements the head reads as weak anger; real anger it reads strongly.
    examples = [Example("the bus is at noon", Mood.NEUTRAL, Intensity.LOW)] * 40
    examples += [Example("this is outrageous", Mood.ANGER, Intensity.MEDIUM)] * 40
    weak = {"anger/medium": 0.35, "neutral/low": 0.3, "joy/medium": 0.35 / 2, "sadness/medium": 0.35 / 2}
    probabilities = readings([weak] * 40 + [{"anger/medium": 0.9, "neutral/low": 0.1}] * 40)
    model = EmotionModel(classes=tuple(LABELS), train_sha256="")
    floor = choose_neutral_floor(model, probabilities, examples)
    anger = list(Mood).index(Mood.ANGER)
    weak_anger, strong_anger = (model.moods(probabilities[i])[0][anger] for i in (0, -1))
    assert weak_anger < floor <= strong_anger


def test_intensity_follows_the_heads_intensities_for_the_labelled_mood() -> None:
    rng = np.random.default_rng(0)
    examples, rows = [], []
    for i in range(150):
        mood = [Mood.JOY, Mood.SADNESS, Mood.FEAR][i % 3]
        intensity = list(Intensity)[rng.integers(3)]
        examples.append(Example("a calm sentence", mood, intensity))
        rows.append({joint_label(mood, intensity): 0.7, joint_label(mood, Intensity.MEDIUM): 0.2})
    model = EmotionModel(classes=tuple(LABELS), train_sha256="")
    fitted = fit_intensity(model, readings(rows), examples)
    right = 0
    for example, row in zip(examples, readings(rows), strict=True):
        cues = cue_features(read_cues(example.text), example.text)
        features = np.concatenate([model.moods(row)[1][example.mood], cues])
        right += fitted.read(features) is example.intensity
    assert right / len(examples) >= 0.9
