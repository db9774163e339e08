"""Emotion of a message: MiniLM's top layers tuned to read mood and intensity, plus surface cues.

A linear model over MiniLM's frozen sentence vector reads tidy sentences well and real chat poorly:
the mean-pooled vector keeps the topic ("customer service", "taxes") and loses the stance, so
praise about a refund reads as anger and "Gross. Before taxes." as disgust. So emotion, like
moderation, fine-tunes a copy of MiniLM's top layers on its own data (textmodel.tuned.TunedHead),
starting from the token states after the lower layers that the analyzer computes once per
message for both. The head's classes are mood and intensity together ("joy/high", "neutral/low"):
one softmax reads both, the mood is the sum over its intensities.

``python -m reactclip.engine.prompting.train_emotion`` trains it on the labelled chat messages
the text model ships (textmodel/data/chat_messages.jsonl), writes it
(``data/emotion_head.safetensors``) and, on out-of-fold readings, fits what sits on top
(``data/emotion_model.npz``): a temperature that calibrates the probabilities, the neutral floor (a
message whose likeliest mood stays below it reads as neutral: most chat carries no clear emotion,
and a confident-looking guess there puts a fuming mascot on a plain question) and a small
regression that sets intensity from the head's intensities for the mood read and the cues (capitals
and exclamation marks, which the uncased MiniLM never sees).

Messages that are only emoji go by the emoji, since MiniLM reads most of them as unknown tokens.
Without an embedder the cues alone decide. An operator may instead point ``classifier_dir`` at a
local transformers text-classification model (go_emotions and the like); its labels are mapped to
the eight moods.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
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
HEAD_FILE = "emotion_head.safetensors"
JOINT_SEPARATOR = "/"
"""Between mood and intensity in the head's class labels ("joy/high")."""
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
"""Cue features beside the head's intensities (0-1) in the intensity regression: on the same scale."""
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


class StatesEmbedder(Protocol):
    """What the reader needs of moderation's Embedder (the analyzer shares one): token states
    after a layer, the encoder's layers for the head to copy, and where the head runs."""

    def encode_states(self, sentences: list[str], layer: int) -> Any: ...

    def encoder_layers(self) -> Any: ...

    def run_head(self, head: Any) -> MoodHead: ...


class MoodHead(Protocol):
    """The tuned emotion head where it runs (a TunedHead or its ONNX Runtime twin)."""

    start_layer: int
    classes: list[str]
    """"mood/intensity" labels, in column order."""

    def probabilities(self, encoded: Any) -> np.ndarray:
        """One row of class probabilities per sentence of ``encoded`` (states at ``start_layer``)."""
        ...


class EmotionModelError(RuntimeError):
    """The model files are missing, malformed or do not fit each other."""


@dataclass(frozen=True)
class EmotionReading:
    mood: Mood
    intensity: Intensity
    confidence: float
    """The probability of ``mood`` (0-1)."""
    scores: dict[Mood, float]
    """A probability per mood; they sum to 1."""


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=-1, keepdims=True))


def joint_label(mood: Mood, intensity: Intensity) -> str:
    """The head's class for a mood at an intensity; neutral has only "low"."""
    return f"{mood.value}{JOINT_SEPARATOR}{(Intensity.LOW if mood is Mood.NEUTRAL else intensity).value}"


def joint_labels() -> list[str]:
    """Every class the head reads, in the order training gives it."""
    return list(dict.fromkeys(joint_label(m, i) for m in Mood for i in Intensity))


@dataclass(frozen=True)
class IntensityModel:
    """Logistic regression over [the head's intensities for the mood read, the cue features]:
    ``argmax(coef @ x + intercept)``."""

    coef: np.ndarray
    intercept: np.ndarray
    classes: tuple[Intensity, ...]

    def read(self, features: np.ndarray) -> Intensity:
        return self.classes[int(np.argmax(self.coef @ features + self.intercept))]


@dataclass(frozen=True)
class EmotionModel:
    """What sits on the head's "mood/intensity" probabilities: the temperature, the neutral floor
    and the intensity model, all fitted out of fold."""

    classes: tuple[str, ...]
    """The head's classes, in its column order."""
    train_sha256: str
    temperature: float = 1.0
    """Fitted out of fold so that a reading's confidence is close to how often it is right."""
    neutral_floor: float = 0.0
    """A reading whose likeliest mood has less probability than this is neutral (chosen out of fold
    for macro-F1)."""
    intensity: IntensityModel | None = None

    def moods(self, joint: np.ndarray) -> tuple[np.ndarray, dict[Mood, np.ndarray]]:
        """From one row of head probabilities: the calibrated probability of each mood (in Mood
        order) and, per mood, how its probability splits over the intensities (in Intensity order)."""
        log_joint = np.log(np.clip(np.asarray(joint, dtype=np.float64), 1e-12, None))
        calibrated = softmax(log_joint / self.temperature)
        intensities = list(Intensity)
        split = {m: np.zeros(len(intensities)) for m in Mood}
        for label, probability in zip(self.classes, calibrated, strict=True):
            mood, intensity = label.split(JOINT_SEPARATOR)
            split[Mood(mood)][intensities.index(Intensity(intensity))] += probability
        totals = np.asarray([split[m].sum() for m in Mood])
        conditional = {
            m: v / v.sum() if v.sum() > 0 else np.full(len(v), 1 / len(v)) for m, v in split.items()
        }
        return totals / totals.sum(), conditional

    def intensity_of(self, mood: Mood, conditional: np.ndarray, cues: np.ndarray) -> Intensity | None:
        """The intensity for ``mood`` (neutral is always low); None without an intensity model."""
        if mood is Mood.NEUTRAL:
            return Intensity.LOW
        if self.intensity is None:
            return None
        return self.intensity.read(np.concatenate([conditional, cues]))


def default_model_path() -> Path:
    return Path(str(resources.files("reactclip.engine.prompting").joinpath("data", MODEL_FILE)))


def default_head_path() -> Path:
    return Path(str(resources.files("reactclip.engine.prompting").joinpath("data", HEAD_FILE)))


def default_train_path() -> Path:
    """The labelled chat messages (text, emotion, intensity), shared with moderation's training,
    which reads them as everyday traffic."""
    return Path(str(resources.files("reactclip.textmodel").joinpath("data", "chat_messages.jsonl")))


def load_model(path: Path | None = None) -> EmotionModel:
    path = path or default_model_path()
    try:
        with np.load(path, allow_pickle=False) as data:
            classes = tuple(str(c) for c in data["classes"])
            names = tuple(str(n) for n in data["cue_features"])
            sha = str(data["sha256"])
            temperature = float(data["temperature"])
            neutral_floor = float(data["neutral_floor"])
            intensity = IntensityModel(
                coef=np.asarray(data["intensity_coef"], dtype=np.float32),
                intercept=np.asarray(data["intensity_intercept"], dtype=np.float32),
                classes=tuple(Intensity(str(c)) for c in data["intensity_classes"]),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise EmotionModelError(f"cannot read the emotion model at {path}: {exc}") from exc
    if names != CUE_FEATURE_NAMES:
        raise EmotionModelError(
            f"{path} was trained with cue features {names}, this code computes {CUE_FEATURE_NAMES}; "
            "retrain with python -m reactclip.engine.prompting.train_emotion"
        )
    expected = len(Intensity) + len(CUE_FEATURE_NAMES)
    if intensity.coef.shape != (len(intensity.classes), expected):
        raise EmotionModelError(
            f"{path}: intensity weights {intensity.coef.shape}, expected {expected} features"
        )
    return EmotionModel(classes, sha, temperature, neutral_floor, intensity)


def load_head(embedder: StatesEmbedder, path: Path | None = None) -> MoodHead:
    """The shipped (or given) emotion head on the embedder's layer architecture, ready to run where
    the embedder runs. The head class is moderation's: both tune MiniLM's top layers."""
    from reactclip.textmodel.tuned import TunedHead

    path = path or default_head_path()
    try:
        head = TunedHead.load(embedder.encoder_layers(), path)
    except (OSError, KeyError, ValueError, RuntimeError) as exc:
        raise EmotionModelError(f"cannot read the emotion head at {path}: {exc}") from exc
    return embedder.run_head(head)


def cue_features(cues: Cues, text: str) -> np.ndarray:
    """The cue half of the intensity regression's input, in CUE_FEATURE_NAMES order."""
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


def cue_distribution(cues: Cues) -> np.ndarray:
    """The cues alone as probabilities in Mood order (neutral when nothing speaks)."""
    scores = cue_scores(cues)
    values = np.asarray([max(scores[m], 0.0) for m in Mood], dtype=np.float64)
    values[list(Mood).index(Mood.NEUTRAL)] += CUE_NEUTRAL_PRIOR
    return values / values.sum()


class EmotionReader:
    """Reads mood, intensity and confidence from a message.

    ``embedder`` is shared with moderation in the analyzer (bot/analysis.py); pass ``encoded=`` (its
    token states for the message, at the head's start layer) to ``read`` when the message is already
    encoded.
    With no embedder and no head the cues alone decide.
    """

    def __init__(
        self,
        embedder: StatesEmbedder | None,
        *,
        head: MoodHead | None = None,
        model_path: Path | None = None,
        head_path: Path | None = None,
        classifier_dir: Path | None = None,
        label_map: Mapping[str, Mood] | None = None,
    ) -> None:
        self.embedder = embedder
        self.label_map = {k.lower(): v for k, v in (label_map or DEFAULT_LABEL_MAP).items()}
        self._pipeline: Any = None
        self.model: EmotionModel | None = None
        self.head = head
        if classifier_dir is not None:
            self._pipeline = _load_pipeline(classifier_dir)
            return
        if embedder is not None and head is None:
            self.head = load_head(embedder, head_path)
        if self.head is not None or model_path is not None:
            self.model = load_model(model_path)
        if self.head is not None and self.model is not None and list(self.model.classes) != self.head.classes:
            raise EmotionModelError(
                f"the emotion head reads {self.head.classes}, the model on top of it {self.model.classes}; "
                "retrain both with python -m reactclip.engine.prompting.train_emotion"
            )

    @property
    def state_layer(self) -> int | None:
        """The encoder layer whose token states ``read`` takes in ``encoded``; None without a head."""
        return self.head.start_layer if self.head is not None else None

    def read(self, text: str, encoded: Any = None) -> EmotionReading:
        cues = read_cues(text)
        if self._pipeline is not None:
            return self.reading_from(cues, self._mapped(self._pipeline([text])[0]))
        if self.head is None or (encoded is None and self.embedder is None):
            return self.reading_from(cues, cue_distribution(cues))
        if encoded is None:
            encoded = self._encode([text])
        return self.reading_from_head(text, cues, self.head.probabilities(encoded)[0])

    def read_many(self, texts: list[str]) -> list[EmotionReading]:
        """Like ``read`` for each text, with the encoding (or classifier calls) batched."""
        if not texts:
            return []
        if self._pipeline is not None:
            outputs = self._pipeline(list(texts))
            return [
                self.reading_from(read_cues(t), self._mapped(o)) for t, o in zip(texts, outputs, strict=True)
            ]
        if self.embedder is None or self.head is None:
            return [self.read(t) for t in texts]
        probabilities = self.head.probabilities(self._encode(texts))
        return [self.reading_from_head(t, read_cues(t), p) for t, p in zip(texts, probabilities, strict=True)]

    def _encode(self, texts: Sequence[str]) -> Any:
        """The token states of ``texts`` as the head was trained on them: normalised by
        moderation's normaliser (emoji as words, evasions undone), as the analyzer encodes."""
        from reactclip.textmodel.normalize import normalize

        assert self.embedder is not None and self.head is not None
        return self.embedder.encode_states([normalize(t) or " " for t in texts], self.head.start_layer)

    def reading_from_head(self, text: str, cues: Cues, joint: np.ndarray) -> EmotionReading:
        """The reading from one row of the head's "mood/intensity" probabilities. Public so that
        training scores exactly what ``read`` does."""
        model = self._model()
        moods, conditional = model.moods(joint)
        cue_values = cue_features(cues, text)
        return self.reading_from(
            cues,
            moods,
            neutral_floor=model.neutral_floor,
            intensity_of=lambda mood: model.intensity_of(mood, conditional[mood], cue_values),
        )

    def _model(self) -> EmotionModel:
        if self.model is None:
            self.model = load_model()
        return self.model

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
        intensity_of: Callable[[Mood], Intensity | None] | None = None,
    ) -> EmotionReading:
        """The reading from mood probabilities (in Mood order): the surface rules first (emoji-only
        messages, negation, sarcasm), then the neutral floor. ``intensity_of``: the intensity model's
        answer for the mood read; where it gives none the cues decide."""
        if cues.emoji_only:
            # MiniLM sees most emoji as unknown tokens; the emoji themselves are the message.
            probs, intensity_of = cue_distribution(cues), None
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
        intensity = intensity_of(mood) if intensity_of is not None else None
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
