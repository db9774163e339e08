"""Text moderation before any generation: layers cheapest first, then the policy.

1. normalise (normalize.py) so evasions read as the words they hide;
2. lexicon: a hit decides (confidence 0.95) unless an allow-list phrase covers it;
3. semantic: a tuned head on MiniLM's token states and character/word n-grams, blended,
   per-category thresholds (lower when strict); every category the context blocks is judged on its
   own probability, so a mostly-sexual message in an NSFW channel that is also harassment is caught;
4. classifier: an operator's transformers model, only where one is configured;
5. real people: a request that is sexual (a sexual finding of any layer, a semantic sexual probability
   past its real-person threshold, or a sexualising word such as "undress") and points at a real,
   identifiable person (real_person.py) is sexual_real_person, which is blocked everywhere;
6. policy: what the found category means in this channel (policy.py).

Someone asking how to support another person who is struggling (support.py) gets no self_harm finding
from any layer: their words describe another's distress, not their own intent.

A finding the policy allows (sexual content in an NSFW channel) does not stop the later layers: they
may still find something blocked everywhere. Every block is logged with category, layer and the
user's hash; the raw text only at DEBUG.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from reactclip.moderation.categories import UNSAFE, Category
from reactclip.moderation.classifier import DEFAULT_THRESHOLD, TransformersClassifier
from reactclip.moderation.context import RequestContext
from reactclip.moderation.lexicon import Lexicon
from reactclip.moderation.policy import is_blocked, verdict_for
from reactclip.moderation.real_person import RealPersonFinder
from reactclip.moderation.semantic import SemanticClassifier, SemanticThresholds
from reactclip.moderation.support import asks_to_support
from reactclip.moderation.verdict import TextVerdict
from reactclip.textmodel.embedder import Embedder, Encoded
from reactclip.textmodel.normalize import normalize

logger = logging.getLogger("reactclip.moderation")

LEXICON_CONFIDENCE = 0.95


@dataclass(frozen=True)
class _Finding:
    category: Category
    confidence: float
    layer: str


class TextModerator:
    """Decides whether a message may become a clip, in the context it was sent."""

    def __init__(
        self,
        embedder: Embedder | None = None,
        classifier_dir: Path | None = None,
        *,
        lexicon: Lexicon | None = None,
        real_people: RealPersonFinder | None = None,
        semantic: SemanticClassifier | None = None,
        semantic_thresholds: SemanticThresholds | None = None,
        classifier_threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self.embedder = embedder
        self.lexicon = lexicon or Lexicon()
        self.real_people = real_people or RealPersonFinder()
        if semantic is None and embedder is not None:
            semantic = SemanticClassifier.load(
                embedder.encoder_layers(), thresholds=semantic_thresholds, run_head=embedder.run_head
            )
        self.semantic = semantic
        self.classifier = (
            TransformersClassifier(classifier_dir, threshold=classifier_threshold) if classifier_dir else None
        )

    @property
    def state_layer(self) -> int | None:
        """The encoder layer whose token states ``check`` takes in ``encoded``; None with no
        semantic layer."""
        return self.semantic.start_layer if self.semantic is not None else None

    def check(self, text: str, context: RequestContext, encoded: Encoded | None = None) -> TextVerdict:
        """``encoded``: ``normalize(text)`` already encoded (``Embedder.encode_states`` at
        ``state_layer``), shared with emotion reading."""
        return self._check_batch([text], context, encoded)[0]

    def check_many(self, texts: list[str], context: RequestContext) -> list[TextVerdict]:
        """Like ``check`` for each text, encoding them in one batch."""
        return self._check_batch(texts, context, None)

    def _check_batch(
        self, texts: list[str], context: RequestContext, encoded: Encoded | None
    ) -> list[TextVerdict]:
        normalized = [normalize(t) for t in texts]
        supportive = [asks_to_support(n) for n in normalized]
        findings: list[list[_Finding]] = [
            _without_self_harm(self._lexicon_findings(n), s)
            for n, s in zip(normalized, supportive, strict=True)
        ]
        decided = [self._first_block(f, context) is not None for f in findings]
        sexual_probability = [0.0] * len(texts)

        open_rows = [i for i, done in enumerate(decided) if not done]
        if open_rows and self.semantic is not None and (encoded is not None or self.embedder is not None):
            if encoded is None:
                assert self.embedder is not None
                rows = self.embedder.encode_states(
                    [normalized[i] or " " for i in open_rows], self.semantic.start_layer
                )
            else:
                rows = encoded.take(open_rows)
            probabilities = self.semantic.probabilities(rows, [normalized[i] for i in open_rows])
            blocked_here = [c for c in UNSAFE if is_blocked(c, context)]
            sexual_column = self.semantic.column(Category.SEXUAL)
            for i, row in zip(open_rows, probabilities, strict=True):
                if sexual_column is not None:
                    sexual_probability[i] = float(row[sexual_column])
                found = [
                    _Finding(f.category, f.probability, "semantic")
                    for f in self.semantic.findings(row, context.guild.strictness, blocked_here)
                ]
                findings[i] += _without_self_harm(found, supportive[i])
            open_rows = [i for i in open_rows if self._first_block(findings[i], context) is None]

        if open_rows and self.classifier is not None:
            threshold = self.classifier.threshold
            if context.guild.strictness == "strict":
                threshold *= (
                    self.semantic.thresholds if self.semantic else SemanticThresholds()
                ).strict_factor
            scores = self.classifier.scores([normalized[i] for i in open_rows])
            for i, row_scores in zip(open_rows, scores, strict=True):
                found = [
                    _Finding(c, score, "classifier")
                    for c, score in self.classifier.findings(row_scores, threshold)
                ]
                findings[i] += _without_self_harm(found, supportive[i])

        for i, (written, text) in enumerate(zip(texts, normalized, strict=True)):
            self._add_real_person(written, text, findings[i], sexual_probability[i], context)
        return [self._verdict(t, f, context, s) for t, f, s in zip(texts, findings, supportive, strict=True)]

    def _add_real_person(
        self,
        written: str,
        normalized: str,
        findings: list[_Finding],
        sexual_probability: float,
        context: RequestContext,
    ) -> None:
        """Puts a sexual_real_person finding first (after minors) when the request is sexual and
        points at a real, identifiable person."""
        cue = self.real_people.find(normalized, written)
        if cue is None:
            return
        thresholds = self.semantic.thresholds if self.semantic is not None else SemanticThresholds()
        evidence = [f.confidence for f in findings if f.category is Category.SEXUAL]
        if sexual_probability >= thresholds.real_person_threshold(
            cue.identity.value, context.guild.strictness
        ):
            evidence.append(sexual_probability)
        if not evidence and self.real_people.is_sexualising(
            normalized, self.lexicon.allowed_spans(normalized)
        ):
            evidence.append(LEXICON_CONFIDENCE)
        if not evidence:
            return
        logger.debug("real person (%s): %r", cue.identity.value, cue.text)
        at = 1 if findings and findings[0].category is Category.SEXUAL_MINORS else 0
        findings.insert(at, _Finding(Category.SEXUAL_REAL_PERSON, max(evidence), "real_person"))

    def _lexicon_findings(self, normalized: str) -> list[_Finding]:
        seen: list[Category] = []
        for hit in self.lexicon.find(normalized):
            if hit.category not in seen:
                seen.append(hit.category)
        return [_Finding(c, LEXICON_CONFIDENCE, "lexicon") for c in seen]

    @staticmethod
    def _first_block(findings: list[_Finding], context: RequestContext) -> TextVerdict | None:
        for f in findings:
            verdict = verdict_for(f.category, f.confidence, f.layer, context)
            if not verdict.allowed:
                return verdict
        return None

    def _verdict(
        self, text: str, findings: list[_Finding], context: RequestContext, supportive: bool
    ) -> TextVerdict:
        blocked = self._first_block(findings, context)
        if blocked is not None:
            log = logger.warning if blocked.category is Category.SEXUAL_MINORS else logger.info
            log(
                "blocked text: category=%s layer=%s confidence=%.2f user=%s nsfw=%s dm=%s",
                blocked.category.value,
                blocked.layer,
                blocked.confidence,
                context.user_hash,
                context.nsfw_channel,
                context.is_dm,
            )
            logger.debug("blocked text (user=%s): %r", context.user_hash, text)
            return blocked
        if findings:  # found, but allowed here (sexual content in an NSFW channel)
            f = findings[0]
            return TextVerdict(True, f.category, f.confidence, f.layer, "", supportive)
        layer = "semantic" if self.semantic is not None and self.embedder is not None else "lexicon"
        return TextVerdict(True, Category.NONE, 0.0, layer, "", supportive)


def _without_self_harm(findings: list[_Finding], supportive: bool) -> list[_Finding]:
    return [f for f in findings if not (supportive and f.category is Category.SELF_HARM)]
