"""Emotion of a message: a small trained classifier on a sentence embedding plus surface cues.

The classifier is multinomial logistic regression over [MiniLM embedding, cue features], trained by
``python -m reactclip.engine.prompting.train_emotion`` on ``data/emotion_train.jsonl`` and shipped as
``data/emotion_model.npz``; at run time it is one matrix product and a softmax in numpy (well under
1 ms). Its probabilities are calibrated (a temperature fitted out of fold), and a message whose
likeliest mood stays below the neutral floor reads as neutral: most chat carries no clear emotion,
and a confident-looking guess there puts a fuming mascot on a plain question. Intensity comes from a
second regression over the same features, trained on labelled intensity, since strength lives in
meaning ("my dog died this morning") as much as in capitals and exclamation marks.

Messages that are only emoji go by the emoji, since MiniLM reads most of them as unknown
tokens. Without an embedder the cues alone decide. An operator may instead point ``classifier_dir``
at a local transformers text-classification model (go_emotions and the like); its labels are mapped
to the eight moods.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from reactclip.engine.mood import Intensity, Mood
from reactclip.engine.prompting.cues import (
    MOOD_WORDS,
    POSITIVE_MOODS,
    Cues,
    cue_scores,
    intensity_from_score,
    read_cues,
)

MODEL_FILE = "emotion_model.npz"
TRAIN_FILE = "emotion_train.jsonl"
CUE_FEATURE_NAMES: tuple[str, ...] = (
    *(f"hits_{m.value}" for m in MOOD_WORDS),
    "negated_positive",
    "negated_negative",
    "sarcasm",
    "emoji_only",
    "intensity",
    "question",
    "surprise_without_praise",
    "double_punctuation",
    "downtoned",
)
DOUBLE_PUNCTUATION = re.compile(r"\?\?|\?!|!\?|[‼⁉]")
"""Disbelief punctuation ("??", "?!"), which separates surprise from a plain question."""
CUE_SCALE = 0.5
"""Cue features against an L2-normalised embedding: small enough that the embedding still counts."""
CUE_NEUTRAL_PRIOR = 0.3
NEGATION_SHIFT = 0.8
NEGATED_TARGETS: dict[bool, dict[Mood, float]] = {
    True: {Mood.SADNESS: 0.5, Mood.ANGER: 0.5},  # a negated positive mood
    False: {Mood.JOY: 0.6, Mood.NEUTRAL: 0.4},  # a negated negative mood
}
CONFIDENCE_BOOST = 0.2
"""How much a confident non-neutral reading adds to the cue intensity score (0-1)."""

DEFAULT_LABEL_MAP: dict[str, Mood] = {
    # The eight moods and common spellings of them (the "emotion" data set uses six of these).
    **{m.value: m for m in Mood},
    "happy": Mood.JOY, "happiness": Mood.JOY, "sad": Mood.SADNESS, "angry": Mood.ANGER,
    "scared": Mood.FEAR, "fearful": Mood.FEAR, "surprised": Mood.SURPRISE, "disgusted": Mood.DISGUST,
    "others": Mood.NEUTRAL, "none": Mood.NEUTRAL,
    # go_emotions' other 22 labels.
    "admiration": Mood.JOY, "amusement": Mood.JOY, "approval": Mood.JOY, "excitement": Mood.JOY,
    "gratitude": Mood.JOY, "optimism": Mood.JOY, "pride": Mood.JOY, "relief": Mood.JOY,
    "caring": Mood.LOVE, "desire": Mood.LOVE,
    "disappointment": Mood.SADNESS, "grief": Mood.SADNESS, "remorse": Mood.SADNESS,
    "embarrassment": Mood.SADNESS,
    "annoyance": Mood.ANGER, "disapproval": Mood.ANGER,
    "nervousness": Mood.FEAR,
    "confusion": Mood.SURPRISE, "curiosity": Mood.SURPRISE, "realization": Mood.SURPRISE,
}  # fmt: skip
"""Classifier labels (lower-cased) to moods; labels not here are ignored."""


class Embedder(Protocol):
    """Anything that turns sentences into L2-normalised rows (moderation's SentenceEmbedder fits)."""

    def encode(self, sentences: list[str]) -> np.ndarray: ...


class EmotionModelError(RuntimeError):
    """The classifier file is missing, malformed or does not fit the embeddings it is given."""


@dataclass(frozen=True)
class EmotionReading:
    mood: Mood
    intensity: Intensity
    confidence: float
    """The probability of ``mood`` (0-1)."""
    scores: dict[Mood, float]
    """A probability per mood; they sum to 1."""


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return np.asarray(shifted / shifted.sum())


@dataclass(frozen=True)
class IntensityModel:
    """Logistic regression over the mood classifier's features: ``softmax(coef @ x + intercept)``."""

    coef: np.ndarray
    intercept: np.ndarray
    classes: tuple[Intensity, ...]

    def read(self, features: np.ndarray) -> Intensity:
        return self.classes[int(np.argmax(self.coef @ features + self.intercept))]


@dataclass(frozen=True)
class EmotionModel:
    """The trained logistic regression: ``softmax((coef @ features + intercept) / temperature)`` over
    ``classes``, with the neutral floor and the intensity model trained beside it."""

    coef: np.ndarray
    intercept: np.ndarray
    classes: tuple[Mood, ...]
    train_sha256: str
    temperature: float = 1.0
    """Fitted out of fold so that a reading's confidence is close to how often it is right."""
    neutral_floor: float = 0.0
    """A reading whose likeliest mood has less probability than this is neutral (chosen out of fold
    for macro-F1)."""
    intensity: IntensityModel | None = None

    @property
    def embedding_dim(self) -> int:
        return int(self.coef.shape[1]) - len(CUE_FEATURE_NAMES)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        return softmax((self.coef @ features + self.intercept) / self.temperature)


def default_model_path() -> Path:
    return Path(str(resources.files("reactclip.engine.prompting").joinpath("data", MODEL_FILE)))


def default_train_path() -> Path:
    return Path(str(resources.files("reactclip.engine.prompting").joinpath("data", TRAIN_FILE)))


def load_model(path: Path | None = None) -> EmotionModel:
    path = path or default_model_path()
    try:
        with np.load(path, allow_pickle=False) as data:
            coef = np.asarray(data["coef"], dtype=np.float32)
            intercept = np.asarray(data["intercept"], dtype=np.float32)
            classes = tuple(Mood(str(c)) for c in data["classes"])
            names = tuple(str(n) for n in data["cue_features"])
            sha = str(data["sha256"])
            temperature = float(data["temperature"]) if "temperature" in data else 1.0
            neutral_floor = float(data["neutral_floor"]) if "neutral_floor" in data else 0.0
            intensity = (
                IntensityModel(
                    coef=np.asarray(data["intensity_coef"], dtype=np.float32),
                    intercept=np.asarray(data["intensity_intercept"], dtype=np.float32),
                    classes=tuple(Intensity(str(c)) for c in data["intensity_classes"]),
                )
                if "intensity_coef" in data
                else None
            )
    except (OSError, KeyError, ValueError) as exc:
        raise EmotionModelError(f"cannot read the emotion classifier at {path}: {exc}") from exc
    if names != CUE_FEATURE_NAMES:
        raise EmotionModelError(
            f"{path} was trained with cue features {names}, this code computes {CUE_FEATURE_NAMES}; "
            "retrain with python -m reactclip.engine.prompting.train_emotion"
        )
    if coef.shape != (len(classes), coef.shape[1]) or intercept.shape != (len(classes),):
        raise EmotionModelError(f"{path}: coef {coef.shape} and intercept {intercept.shape} do not fit")
    if intensity is not None and intensity.coef.shape[1] != coef.shape[1]:
        raise EmotionModelError(f"{path}: the intensity model takes {intensity.coef.shape[1]} features")
    return EmotionModel(
        coef=coef,
        intercept=intercept,
        classes=classes,
        train_sha256=sha,
        temperature=temperature,
        neutral_floor=neutral_floor,
        intensity=intensity,
    )


def cue_features(cues: Cues, text: str) -> np.ndarray:
    """The cue half of the classifier's input, in CUE_FEATURE_NAMES order."""
    values = [float(np.log1p(cues.hits[m])) for m in MOOD_WORDS]
    values += [
        min(cues.negated_positive, 2) / 2,
        min(cues.negated_negative, 2) / 2,
        min(cues.sarcasm, 2) / 2,
        float(cues.emoji_only),
        cues.intensity,
        float("?" in text),
        # "wait what", "no way??" with no positive word is astonishment, not good news; a linear
        # model cannot build this "and not" from the hit counts on its own.
        float(cues.hits[Mood.SURPRISE] > 0 and cues.hits[Mood.JOY] + cues.hits[Mood.LOVE] == 0),
        float(DOUBLE_PUNCTUATION.search(text) is not None),
        cues.downtoned,
    ]
    return CUE_SCALE * np.asarray(values, dtype=np.float32)


def emoji_as_words(text: str) -> str:
    """Emoji replaced by their Unicode names, lower-cased: close to what moderation's normaliser
    embeds, so training sees that form too."""
    out: list[str] = []
    for char in text.lower():
        if unicodedata.category(char) == "So":
            out.append(f" {unicodedata.name(char, '').lower()} ")
        elif unicodedata.category(char) not in ("Mn", "Cf"):
            out.append(char)
    return " ".join("".join(out).split())


def cue_distribution(cues: Cues) -> np.ndarray:
    """The cues alone as probabilities in Mood order (neutral when nothing speaks)."""
    scores = cue_scores(cues)
    values = np.asarray([max(scores[m], 0.0) for m in Mood], dtype=np.float64)
    values[list(Mood).index(Mood.NEUTRAL)] += CUE_NEUTRAL_PRIOR
    return values / values.sum()


class EmotionReader:
    """Reads mood, intensity and confidence from a message.

    ``embedder`` is shared with moderation in the orchestrator; pass ``embedding=`` to ``read`` when
    the message is already embedded. With no embedder and no embedding the cues alone decide.
    """

    def __init__(
        self,
        embedder: Embedder | None,
        *,
        model_path: Path | None = None,
        classifier_dir: Path | None = None,
        label_map: Mapping[str, Mood] | None = None,
    ) -> None:
        self.embedder = embedder
        self.label_map = {k.lower(): v for k, v in (label_map or DEFAULT_LABEL_MAP).items()}
        self._pipeline: Any = None
        self.model: EmotionModel | None = None
        if classifier_dir is not None:
            self._pipeline = _load_pipeline(classifier_dir)
        elif embedder is not None or model_path is not None:
            self.model = load_model(model_path)

    def read(self, text: str, embedding: np.ndarray | None = None) -> EmotionReading:
        cues = read_cues(text)
        if self._pipeline is not None:
            return self.reading_from(cues, self._mapped(self._pipeline([text])[0]))
        if embedding is None and self.embedder is None:
            return self.reading_from(cues, cue_distribution(cues))
        if embedding is None:
            assert self.embedder is not None
            embedding = self.embedder.encode([text])[0]
        model = self._model()
        features = self._features(text, cues, embedding)
        probs = model.probabilities(features)
        by_mood = dict(zip(model.classes, probs.tolist(), strict=True))
        mood_probs = np.asarray([by_mood.get(m, 0.0) for m in Mood], dtype=np.float64)
        intensity = model.intensity.read(features) if model.intensity is not None else None
        return self.reading_from(cues, mood_probs, neutral_floor=model.neutral_floor, intensity=intensity)

    def read_many(self, texts: list[str]) -> list[EmotionReading]:
        """Like ``read`` for each text, with the embeddings (or classifier calls) batched."""
        if not texts:
            return []
        if self._pipeline is not None:
            outputs = self._pipeline(list(texts))
            return [
                self.reading_from(read_cues(t), self._mapped(o)) for t, o in zip(texts, outputs, strict=True)
            ]
        if self.embedder is None:
            return [self.read(t) for t in texts]
        embeddings = self.embedder.encode(list(texts))
        return [self.read(t, e) for t, e in zip(texts, embeddings, strict=True)]

    def _model(self) -> EmotionModel:
        if self.model is None:
            self.model = load_model()
        return self.model

    def _features(self, text: str, cues: Cues, embedding: np.ndarray) -> np.ndarray:
        """The classifiers' input: the embedding, then the cue features."""
        vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
        expected = self._model().embedding_dim
        if vector.shape[0] != expected:
            raise EmotionModelError(
                f"embedding has {vector.shape[0]} values; the emotion classifier was trained on "
                f"{expected} (all-MiniLM-L6-v2)"
            )
        return np.concatenate([vector, cue_features(cues, text)])

    def _mapped(self, output: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """A text-classification pipeline's label scores summed per mood."""
        values = np.zeros(len(Mood), dtype=np.float64)
        index = {m: i for i, m in enumerate(Mood)}
        for item in output:
            mood = self.label_map.get(str(item["label"]).lower())
            if mood is not None:
                values[index[mood]] += float(item["score"])
        if values.sum() <= 0:
            values[index[Mood.NEUTRAL]] = 1.0
        return values / values.sum()

    def reading_from(
        self,
        cues: Cues,
        probs: np.ndarray,
        *,
        neutral_floor: float = 0.0,
        intensity: Intensity | None = None,
    ) -> EmotionReading:
        """The reading from mood probabilities (in Mood order): the surface rules first (emoji-only
        messages, negation, sarcasm), then the neutral floor. ``intensity``: the intensity model's
        answer; without one the cues decide. Public so that training scores exactly these rules."""
        if cues.emoji_only:
            # MiniLM sees most emoji as unknown tokens; the emoji themselves are the message.
            probs, intensity = cue_distribution(cues), None
        else:
            # Sentence embeddings barely notice "not" or "/s"; where the surface says so, believe it.
            probs = _negations_applied(probs, cues)
            if cues.sarcasm:
                probs = _sarcastic(probs)
        moods = list(Mood)
        best = int(np.argmax(probs))
        mood, confidence = moods[best], float(probs[best])
        if mood is not Mood.NEUTRAL and confidence < neutral_floor:
            mood, confidence = Mood.NEUTRAL, float(probs[moods.index(Mood.NEUTRAL)])
        if intensity is None:
            score = cues.intensity
            if mood is not Mood.NEUTRAL:
                score += CONFIDENCE_BOOST * max(0.0, (confidence - 0.5) / 0.5)
            intensity = intensity_from_score(score)
        return EmotionReading(
            mood=mood,
            intensity=intensity,
            confidence=confidence,
            scores={m: float(p) for m, p in zip(moods, probs, strict=True)},
        )


def _negations_applied(probs: np.ndarray, cues: Cues) -> np.ndarray:
    """A mood whose only cues are negated ("not scared anymore") loses most of its probability:
    negated distress goes to relief (joy) and calm, negated joy or love to sadness and anger."""
    moods = list(Mood)
    out = probs.copy()
    for mood, count in cues.negated.items():
        if count <= 0 or cues.hits[mood] > 0:
            continue
        moved = NEGATION_SHIFT * out[moods.index(mood)]
        out[moods.index(mood)] -= moved
        targets = NEGATED_TARGETS[mood in POSITIVE_MOODS]
        for target, share in targets.items():
            out[moods.index(target)] += share * moved
    return out


def _sarcastic(probs: np.ndarray) -> np.ndarray:
    """Ironic praise: what the classifier gave joy and love goes to anger."""
    moods = list(Mood)
    out = probs.copy()
    for mood in (Mood.JOY, Mood.LOVE):
        out[moods.index(Mood.ANGER)] += out[moods.index(mood)]
        out[moods.index(mood)] = 0.0
    return out


def _load_pipeline(classifier_dir: Path) -> Any:
    if not (classifier_dir / "config.json").is_file():
        raise EmotionModelError(f"{classifier_dir} holds no transformers model (config.json missing)")
    from transformers import pipeline

    return pipeline("text-classification", model=str(classifier_dir), top_k=None, device="cpu")
