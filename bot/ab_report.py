"""``reactclip ab report``: how each A/B variant is doing (requests, latency, failures, votes), read
from the bot's own Prometheus metrics, so that a weighted rollout can be judged before its weight
goes up.

Why read /metrics rather than keep a second tally: the bot already counts exactly these things
(bot/metrics.py: ``reactclip_variant_seconds``, ``reactclip_variant_outcomes_total``,
``reactclip_votes_total``; engine/metrics.py: ``reactclip_ab_assignments_total``), and a report
computed from the same numbers Prometheus scrapes cannot disagree with the dashboards. Several bot
shards each serve their own page, so the report sums counters and histogram buckets over every page
it is given (a live URL or a saved scrape).

The functions here are pure (text in, numbers out) so that tests check the arithmetic without a
server; only ``ab_report`` touches the network or the disk. This module is imported by the CLI at
start-up, so it imports nothing heavier than typer and prometheus-client's text parser.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from prometheus_client.parser import text_string_to_metric_families

VARIANT_SECONDS = "reactclip_variant_seconds"
"""Histogram, label ``variant``: end-to-end seconds of each clip made (cache hits are not in it)."""
VARIANT_OUTCOMES = "reactclip_variant_outcomes"
"""Counter, labels ``variant`` and ``outcome`` (clip | failed)."""
VOTES = "reactclip_votes"
"""Counter, labels ``variant`` and ``vote`` (up | down)."""
AB_ASSIGNMENTS = "reactclip_ab_assignments"
"""Counter, label ``variant``: requests the executor assigned to each arm (its collector)."""
K = TypeVar("K", str, float)  # a label value (outcome, vote) or a bucket bound
DEFAULT_METRICS_URL = "http://127.0.0.1:9108/metrics"
"""Where ``reactclip run`` serves its metrics by default (``monitoring.bot_port``)."""
FETCH_TIMEOUT_S = 5.0
Z_95 = 1.96
"""The normal quantile for a two-sided 95% interval, to the two places bench/_scoring.py uses."""


class ReportError(Exception):
    """A source the report cannot use, or nothing to report; the message is the one line shown."""


@dataclass
class ABData:
    """The A/B samples of one or more scrapes, summed. Only what was exposed is here: a variant
    missing from a map had no sample in that metric (as opposed to a sample of 0)."""

    assignments: dict[str, float] = field(default_factory=dict)
    outcomes: dict[str, dict[str, float]] = field(default_factory=dict)
    """variant -> outcome (clip, failed) -> count."""
    votes: dict[str, dict[str, float]] = field(default_factory=dict)
    """variant -> vote (up, down) -> count."""
    buckets: dict[str, dict[float, float]] = field(default_factory=dict)
    """variant -> upper bound (``le``, +Inf included) -> cumulative count, as exposed."""

    def variants(self) -> set[str]:
        return {*self.assignments, *self.outcomes, *self.votes, *self.buckets}


@dataclass(frozen=True)
class VariantReport:
    """One row of the report. None wherever the metrics hold nothing to compute the figure from
    (shown as "-", and as null in JSON), so a thin arm is visible as thin rather than as 0%."""

    variant: str
    requests: int | None
    clips: int | None
    failures: int | None
    failure_rate: float | None
    p50_s: float | None
    p95_s: float | None
    votes_up: int | None
    votes_down: int | None
    up_share: float | None
    up_share_low: float | None
    up_share_high: float | None


def parse_exposition(text: str) -> ABData:
    """The A/B samples of one page of Prometheus text (the prometheus-client parser), everything
    else ignored. Samples are matched by their exposed name (``..._total``, ``..._bucket``) rather
    than by family, so a page without ``# TYPE`` lines reads the same. Raises ValueError for text
    that is not in Prometheus's format."""
    data = ABData()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            variant = labels.get("variant")
            if variant is None:
                continue
            value = float(sample.value)
            if sample.name == f"{AB_ASSIGNMENTS}_total":
                data.assignments[variant] = data.assignments.get(variant, 0.0) + value
            elif sample.name == f"{VARIANT_OUTCOMES}_total" and "outcome" in labels:
                _add(data.outcomes, variant, labels["outcome"], value)
            elif sample.name == f"{VOTES}_total" and "vote" in labels:
                _add(data.votes, variant, labels["vote"], value)
            elif sample.name == f"{VARIANT_SECONDS}_bucket" and "le" in labels:
                _add(data.buckets, variant, float(labels["le"]), value)
    return data


def _add(table: dict[str, dict[K, float]], variant: str, key: K, value: float) -> None:
    row = table.setdefault(variant, {})
    row[key] = row.get(key, 0.0) + value


def merge(sources: Iterable[ABData]) -> ABData:
    """Several shards' scrapes as one: counters summed per label set, histograms summed bucket by
    bucket. Shards normally share one bucket layout (``RENDER_BUCKETS``); where one lacks a bound
    another has (a shard on an older release), its cumulative count there is taken from its
    nearest lower bound, which is what it can vouch for, so the sum stays a valid histogram."""
    merged = ABData()
    histograms: dict[str, list[dict[float, float]]] = defaultdict(list)
    for source in sources:
        for variant, count in source.assignments.items():
            merged.assignments[variant] = merged.assignments.get(variant, 0.0) + count
        for table, into in ((source.outcomes, merged.outcomes), (source.votes, merged.votes)):
            for variant, row in table.items():
                for key, count in row.items():
                    _add(into, variant, key, count)
        for variant, buckets in source.buckets.items():
            histograms[variant].append(buckets)
    for variant, layouts in histograms.items():
        bounds = sorted({bound for layout in layouts for bound in layout})
        merged.buckets[variant] = {
            bound: sum(_cumulative_at(layout, bound) for layout in layouts) for bound in bounds
        }
    return merged


def _cumulative_at(buckets: Mapping[float, float], bound: float) -> float:
    """A cumulative histogram's count of observations ≤ ``bound``, as far as its own bounds say."""
    below = [le for le in buckets if le <= bound]
    return buckets[max(below)] if below else 0.0


def histogram_quantile(q: float, buckets: Mapping[float, float]) -> float | None:
    """The q-quantile of a cumulative histogram (upper bound -> count), the way Prometheus's
    ``histogram_quantile`` computes it, so the report agrees with a dashboard built on the same
    buckets: find the bucket holding rank q·count and interpolate linearly inside it, the lowest
    bucket starting at 0. A rank in the +Inf bucket returns the highest finite bound (a floor: the
    true value is somewhere above it). None without observations or without a finite bucket.

    The answer is only as fine as the buckets: with ``RENDER_BUCKETS`` a p95 in (4, 8] s can be
    off by up to the bucket's width if the clips in it are not spread evenly."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile must be in [0, 1], not {q}")
    ordered = sorted(buckets.items())
    finite = [(bound, count) for bound, count in ordered if not math.isinf(bound)]
    if not finite:
        return None
    total = ordered[-1][1]  # the +Inf bucket is the count; without one, the last bucket is
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for upper, count in finite:
        if count >= rank:
            if upper <= 0:  # Prometheus: a bucket at or below 0 has no interval to interpolate in
                return upper
            inside = count - below
            if inside <= 0:
                return upper
            return lower + (upper - lower) * (rank - below) / inside
        lower, below = upper, count
    return finite[-1][0]


def wilson_interval(successes: float, total: float, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval for a proportion (95% at the default z): unlike p ± z·√(p(1-p)/n)
    it stays inside [0, 1] and does not collapse to a point at 0 of n or n of n, which is exactly
    where a new variant with a handful of votes sits. The same formula as bench/_scoring.py's.
    None for 0 of 0: there is no share to bound."""
    if total <= 0:
        return None
    p = successes / total
    z2 = z * z
    denominator = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def summarise(data: ABData) -> list[VariantReport]:
    """One row per variant, sorted by name. Requests are the executor's assignments where it
    exposes them (they include cache hits and requests that ended otherwise), else the clips and
    failures the bot saw. A variant with some outcome exposed and another not counts the absent one
    as 0 (prometheus-client shows a label set only once it moved); one with no sample at all in a
    metric gets None for that metric's figures."""
    rows = []
    for variant in sorted(data.variants()):
        outcomes = data.outcomes.get(variant)
        clips = failures = None
        failure_rate = None
        if outcomes is not None:
            clips, failures = _count(outcomes.get("clip", 0.0)), _count(outcomes.get("failed", 0.0))
            failure_rate = failures / (clips + failures) if clips + failures else None
        if variant in data.assignments:
            requests: int | None = _count(data.assignments[variant])
        else:
            requests = clips + failures if clips is not None and failures is not None else None
        buckets = data.buckets.get(variant, {})
        votes = data.votes.get(variant)
        up = down = None
        share = None
        interval = None
        if votes is not None:
            up, down = _count(votes.get("up", 0.0)), _count(votes.get("down", 0.0))
            share = up / (up + down) if up + down else None
            interval = wilson_interval(up, up + down)
        rows.append(
            VariantReport(
                variant=variant,
                requests=requests,
                clips=clips,
                failures=failures,
                failure_rate=failure_rate,
                p50_s=histogram_quantile(0.5, buckets),
                p95_s=histogram_quantile(0.95, buckets),
                votes_up=up,
                votes_down=down,
                up_share=share,
                up_share_low=interval[0] if interval else None,
                up_share_high=interval[1] if interval else None,
            )
        )
    return rows


def _count(value: float) -> int:
    """Counters are exposed as floats (``90.0``); the report counts whole requests and votes."""
    return round(value)


COLUMNS = (
    "variant",
    "requests",
    "clips",
    "failed",
    "fail rate",
    "p50",
    "p95",
    "up",
    "down",
    "up share",
    "95% CI",
)


def format_table(rows: Sequence[VariantReport]) -> str:
    """A plain, aligned table (no colours, no box drawing), so it pastes into an issue or a chat
    unchanged; "-" wherever the figure is unknown."""
    cells = [COLUMNS] + [
        (
            row.variant,
            _show(row.requests),
            _show(row.clips),
            _show(row.failures),
            _percent(row.failure_rate),
            _seconds(row.p50_s),
            _seconds(row.p95_s),
            _show(row.votes_up),
            _show(row.votes_down),
            _percent(row.up_share),
            _interval(row.up_share_low, row.up_share_high),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in cells
    )


def _show(value: int | None) -> str:
    return "-" if value is None else str(value)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


def _interval(low: float | None, high: float | None) -> str:
    return "-" if low is None or high is None else f"{low:.1%}-{high:.1%}"


def to_json(rows: Sequence[VariantReport]) -> str:
    """The rows for scripts: a list of objects with the table's figures as numbers (rates as
    fractions, latencies in seconds) and null where unknown."""
    return json.dumps([asdict(row) for row in rows], indent=2)


def read_url(url: str, timeout_s: float = FETCH_TIMEOUT_S) -> ABData:
    """One shard's live metrics page."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            body = response.read()
    except urllib.error.URLError as exc:
        # HTTPError is a URLError: a page that answered, but not with metrics (a 404, a proxy's 502).
        reason = f"HTTP {exc.code} {exc.reason}" if isinstance(exc, urllib.error.HTTPError) else exc.reason
        raise ReportError(
            f"cannot read metrics from {url}: {reason}; is reactclip run serving them (--metrics-port)?"
        ) from None
    except (OSError, ValueError) as exc:  # a timeout mid-read, a malformed URL
        raise ReportError(
            f"cannot read metrics from {url}: {exc or type(exc).__name__}; "
            "is reactclip run serving them (--metrics-port)?"
        ) from None
    return _parse(body, url)


def read_file(path: Path) -> ABData:
    """A saved scrape (``curl -s http://127.0.0.1:9108/metrics > shard1.prom``)."""
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise ReportError(f"cannot read {path}: {exc.strerror or exc}") from None
    return _parse(body, str(path))


def _parse(body: bytes, source: str) -> ABData:
    try:
        return parse_exposition(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ReportError(f"{source} is not Prometheus text ({first_line})") from None


def build_report(urls: Sequence[str], files: Sequence[Path]) -> list[VariantReport]:
    """Read every source, sum them and summarise; ReportError when there is nothing to report."""
    merged = merge([*(read_url(url) for url in urls), *(read_file(path) for path in files)])
    if not merged.variants():
        names = ", ".join(f"{name}{suffix}" for name, suffix in _NAMES)
        raise ReportError(
            f"no A/B data yet: none of {names} is in the metrics read; they appear once a variant "
            "has been assigned a request, made or failed a clip, or been voted on"
        )
    return summarise(merged)


_NAMES = (
    (AB_ASSIGNMENTS, "_total"),
    (VARIANT_OUTCOMES, "_total"),
    (VARIANT_SECONDS, ""),
    (VOTES, "_total"),
)

ab = typer.Typer(help="Judge an A/B rollout from the bot's metrics.", no_args_is_help=True)


@ab.command("report")
def ab_report(
    metrics: Annotated[
        list[str] | None,
        typer.Option(
            "--metrics",
            metavar="URL",
            help=f"A shard's metrics page; repeat for several (default: {DEFAULT_METRICS_URL} "
            "unless --file is given)",
        ),
    ] = None,
    file: Annotated[
        list[Path] | None,
        typer.Option("--file", metavar="PATH", help="A saved scrape in Prometheus text; repeatable"),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="A JSON list of objects, null where unknown")
    ] = False,
) -> None:
    """Per A/B variant: requests, clips, failure rate, p50/p95 latency of clips made, and the
    thumbs-up share with its 95% (Wilson) interval, summed over every source given."""
    files = file or []
    urls = metrics or ([] if files else [DEFAULT_METRICS_URL])
    try:
        rows = build_report(urls, files)
    except ReportError as exc:
        typer.echo(f"reactclip: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(to_json(rows) if as_json else format_table(rows))
