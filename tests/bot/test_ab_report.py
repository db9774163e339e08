"""`reactclip ab report`: per-variant figures from real Prometheus expositions (made by
prometheus-client with the bot's metric names, and the engine's real executor collector), checked
against figures computed here independently; shards summed; the CLI over real HTTP; one clear line
and exit code 2 for a source it cannot use."""

from __future__ import annotations

import json
import math
import random
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from typer.testing import CliRunner

from reactclip.bot.ab_report import (
    AB_ASSIGNMENTS,
    VARIANT_OUTCOMES,
    VARIANT_SECONDS,
    VOTES,
    VariantReport,
    format_table,
    histogram_quantile,
    merge,
    parse_exposition,
    summarise,
    wilson_interval,
)
from reactclip.bot.cli import app
from reactclip.engine.executor.base import ExecutorStats
from reactclip.engine.metrics import RENDER_BUCKETS, ExecutorCollector

BOUNDS = (*RENDER_BUCKETS, math.inf)


@dataclass
class Arm:
    """What one variant did, as the bot would record it."""

    latencies: list[float]
    failures: int
    up: int
    down: int
    assigned: int | None = None


@dataclass
class FakeExecutor:
    """Just enough of an executor for the real ExecutorCollector: its ``stats()``."""

    assigned: dict[str, int] = field(default_factory=dict)

    def stats(self) -> ExecutorStats:
        return ExecutorStats(queued={}, load=0.0, running=0, backend="primary", assigned=self.assigned)


def exposition(arms: dict[str, Arm]) -> bytes:
    """A /metrics page as a bot shard serves it: the bot's A/B metrics under their real names,
    labels and buckets on a private registry, plus the engine's real executor collector."""
    registry = CollectorRegistry()
    seconds = Histogram(VARIANT_SECONDS, "seconds", ["variant"], buckets=RENDER_BUCKETS, registry=registry)
    outcomes = Counter(VARIANT_OUTCOMES, "outcomes", ["variant", "outcome"], registry=registry)
    votes = Counter(VOTES, "votes", ["variant", "vote"], registry=registry)
    for variant, arm in arms.items():
        for latency in arm.latencies:
            seconds.labels(variant).observe(latency)
            outcomes.labels(variant, "clip").inc()
        if arm.failures:
            outcomes.labels(variant, "failed").inc(arm.failures)
        if arm.up:
            votes.labels(variant, "up").inc(arm.up)
        if arm.down:
            votes.labels(variant, "down").inc(arm.down)
    assigned = {variant: arm.assigned for variant, arm in arms.items() if arm.assigned is not None}
    registry.register(ExecutorCollector(lambda: FakeExecutor(assigned), "none"))  # type: ignore[arg-type, return-value]
    return generate_latest(registry)


def arms() -> dict[str, Arm]:
    """Variant a: 90 clips spread over 0.3-12 s, 10 failures, 40 up / 10 down, 104 assigned (cache
    hits included); variant b: 9 clips at known seconds, 1 failure, 3 up / 3 down, no assignment
    exposed; "unknown": votes under clips posted before variants were kept, nothing else."""
    rng = random.Random(15)
    return {
        "a": Arm([rng.uniform(0.3, 12.0) for _ in range(90)], failures=10, up=40, down=10, assigned=104),
        "b": Arm([1.5, 1.5, 1.5, 3.0, 3.0, 3.0, 3.0, 6.0, 20.0], failures=1, up=3, down=3),
        "unknown": Arm([], failures=0, up=2, down=0),
    }


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The closed form, written out separately from the module's: (p + z²/2n ± z√(p(1-p)/n +
    z²/4n²)) / (1 + z²/n)."""
    p = k / n
    centre = p + z**2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return (centre - spread) / (1 + z**2 / n), (centre + spread) / (1 + z**2 / n)


def bucket_of(value: float) -> tuple[float, float]:
    """The (lower, upper] bucket of RENDER_BUCKETS holding ``value``."""
    lower = 0.0
    for upper in BOUNDS:
        if value <= upper:
            return lower, upper
        lower = upper
    raise AssertionError(value)


def nearest_rank(values: Sequence[float], q: float) -> float:
    return sorted(values)[math.ceil(q * len(values)) - 1]


def by_variant(rows: Sequence[VariantReport]) -> dict[str, VariantReport]:
    return {row.variant: row for row in rows}


# The arithmetic, on a realistic page ------------------------------------------------------------


def test_report_matches_figures_computed_independently() -> None:
    recorded = arms()
    rows = summarise(parse_exposition(exposition(recorded).decode()))
    assert [row.variant for row in rows] == ["a", "b", "unknown"]
    a, b, unknown = rows

    assert (a.requests, a.clips, a.failures) == (104, 90, 10)  # requests: the executor's assignments
    assert a.failure_rate == pytest.approx(10 / 100)
    assert (b.requests, b.clips, b.failures) == (10, 9, 1)  # no assignments exposed: clips + failures
    assert b.failure_rate == pytest.approx(1 / 10)

    # Latency: interpolation stays inside the bucket that holds the true sample quantile.
    for row, arm in ((a, recorded["a"]), (b, recorded["b"])):
        for q, reported in ((0.5, row.p50_s), (0.95, row.p95_s)):
            lower, upper = bucket_of(nearest_rank(arm.latencies, q))
            assert reported is not None and lower <= reported <= upper, (row.variant, q, reported)
    # b by hand: rank 4.5 of 9 falls in (2, 4] (3 below, 4 inside): 2 + 2·1.5/4; rank 8.55 falls in
    # (15, 30] (8 below, 1 inside): 15 + 15·0.55.
    assert b.p50_s == pytest.approx(2.75)
    assert b.p95_s == pytest.approx(23.25)

    assert (a.votes_up, a.votes_down, a.up_share) == (40, 10, pytest.approx(0.8))
    assert (a.up_share_low, a.up_share_high) == pytest.approx(wilson(40, 50))
    assert (b.votes_up, b.votes_down, b.up_share) == (3, 3, pytest.approx(0.5))
    assert (b.up_share_low, b.up_share_high) == pytest.approx(wilson(3, 6))

    # Votes only: every other figure is unknown, not 0.
    assert (unknown.votes_up, unknown.votes_down, unknown.up_share) == (2, 0, 1.0)
    assert unknown.up_share_low == pytest.approx(wilson(2, 2)[0]) and unknown.up_share_high == 1.0
    assert unknown.requests is unknown.clips is unknown.failures is unknown.failure_rate is None
    assert unknown.p50_s is unknown.p95_s is None

    table = format_table(rows).splitlines()
    assert table[0].split()[:3] == ["variant", "requests", "clips"]
    assert table[1].split()[:5] == ["a", "104", "90", "10", "10.0%"]
    assert table[2].split()[5:7] == ["2.75s", "23.25s"]
    assert table[3].split()[:10] == ["unknown", "-", "-", "-", "-", "-", "-", "2", "0", "100.0%"]
    assert len({len(line) for line in table}) == 1  # aligned: every column padded to its widest cell


def test_wilson_interval_closed_form_and_edges() -> None:
    assert wilson_interval(0, 0) is None
    assert wilson_interval(40, 50) == pytest.approx(wilson(40, 50))
    assert wilson_interval(1, 7) == pytest.approx(wilson(1, 7))
    low, high = wilson_interval(5, 5)  # type: ignore[misc]
    assert high == 1.0 and low == pytest.approx(5 / (5 + 1.96**2))  # n of n: n / (n + z²)
    low, high = wilson_interval(0, 5)  # type: ignore[misc]
    assert low == 0.0 and high == pytest.approx(1.96**2 / (5 + 1.96**2))


def test_quantile_edges_follow_prometheus() -> None:
    assert histogram_quantile(0.5, {}) is None
    assert histogram_quantile(0.5, {1.0: 0.0, math.inf: 0.0}) is None  # no observations
    assert histogram_quantile(0.5, {1.0: 4.0, 2.0: 4.0, math.inf: 4.0}) == pytest.approx(0.5)  # from 0
    # Ranks in the +Inf bucket: the highest finite bound, not infinity.
    assert histogram_quantile(0.95, {1.0: 1.0, 2.0: 1.0, math.inf: 10.0}) == 2.0
    with pytest.raises(ValueError):
        histogram_quantile(1.5, {1.0: 1.0, math.inf: 1.0})


def test_a_variant_with_only_some_outcomes_counts_the_others_as_zero() -> None:
    page = exposition({"c": Arm([0.4, 0.7], failures=0, up=0, down=0)}).decode()
    [c] = summarise(parse_exposition(page))
    assert (c.requests, c.clips, c.failures, c.failure_rate) == (2, 2, 0, 0.0)
    assert c.votes_up is c.votes_down is c.up_share is c.up_share_low is None  # never voted on


# Several shards ---------------------------------------------------------------------------------


def test_merging_two_shards_sums_counters_and_buckets() -> None:
    recorded = arms()
    other = {
        "a": Arm([0.2, 0.2, 50.0], failures=2, up=5, down=5, assigned=6),
        "b": Arm([1.0], failures=0, up=1, down=0),
    }
    first, second = (parse_exposition(exposition(shard).decode()) for shard in (recorded, other))
    merged = merge([first, second])
    together = by_variant(summarise(merged))
    assert together["a"].requests == 104 + 6
    assert (together["a"].clips, together["a"].failures) == (93, 12)
    assert together["a"].failure_rate == pytest.approx(12 / 105)
    assert (together["a"].votes_up, together["a"].votes_down) == (45, 15)
    assert (together["b"].clips, together["b"].failures, together["b"].requests) == (10, 1, 11)
    for bound in BOUNDS:
        assert merged.buckets["a"][bound] == first.buckets["a"][bound] + second.buckets["a"][bound]
    # The same as one shard that saw everything.
    everything = {
        "a": Arm(recorded["a"].latencies + other["a"].latencies, 12, 45, 15, assigned=110),
        "b": Arm(recorded["b"].latencies + other["b"].latencies, 1, 4, 3),
        "unknown": recorded["unknown"],
    }
    assert summarise(merged) == summarise(parse_exposition(exposition(everything).decode()))


def test_merging_shards_with_different_bucket_layouts_keeps_a_valid_histogram() -> None:
    old = parse_exposition(
        "\n".join(
            f'{VARIANT_SECONDS}_bucket{{variant="a",le="{le}"}} {count}'
            for le, count in (("1.0", 2), ("4.0", 4), ("+Inf", 4))
        )
        + "\n"
    )
    new = parse_exposition(exposition({"a": Arm([0.5, 3.0], 0, 0, 0)}).decode())
    merged = merge([old, new]).buckets["a"]
    counts = [merged[bound] for bound in sorted(merged)]
    assert counts == sorted(counts) and merged[math.inf] == 6
    assert merged[2.0] == 2 + 1  # the old shard vouches for 2 at ≤ 1 s, the new one for 1 at ≤ 2 s


# The command, over real HTTP --------------------------------------------------------------------


@pytest.fixture
def shard() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving one shard's exposition at /metrics."""
    body = exposition(arms())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/metrics":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_cli_json_from_a_live_metrics_url(shard: str) -> None:
    result = CliRunner().invoke(app, ["ab", "report", "--metrics", shard, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["variant"] for row in rows] == ["a", "b", "unknown"]
    a, b, unknown = rows
    assert set(a) == {
        "variant", "requests", "clips", "failures", "failure_rate", "p50_s", "p95_s",
        "votes_up", "votes_down", "up_share", "up_share_low", "up_share_high",
    }  # fmt: skip
    assert (a["requests"], a["clips"], a["failures"], a["failure_rate"]) == (104, 90, 10, 0.1)
    assert (b["p50_s"], b["p95_s"]) == (pytest.approx(2.75), pytest.approx(23.25))
    assert [a["up_share_low"], a["up_share_high"]] == pytest.approx(wilson(40, 50))
    assert unknown["requests"] is None and unknown["p50_s"] is None and unknown["votes_up"] == 2


def test_cli_table_sums_a_url_and_a_saved_file(shard: str, tmp_path: Path) -> None:
    saved = tmp_path / "shard2.prom"
    saved.write_bytes(exposition({"a": Arm([1.0], failures=0, up=0, down=1, assigned=1)}))
    result = CliRunner().invoke(app, ["ab", "report", "--metrics", shard, "--file", str(saved)])
    assert result.exit_code == 0, result.output
    header, a, b, unknown = result.stdout.splitlines()
    assert header.split()[0] == "variant" and "95% CI" in header
    assert a.split()[:4] == ["a", "105", "91", "10"]
    assert b.split()[0] == "b" and unknown.split()[0] == "unknown"


# Sources the report cannot use ------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fails_with(args: list[str], expected: str) -> str:
    """Exit code 2, one line on stderr that says ``expected``, nothing on stdout, no traceback."""
    result = CliRunner().invoke(app, ["ab", "report", *args])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("reactclip: ") and expected in line, line
    assert "Traceback" not in result.output
    return line


def test_unreachable_url_says_where_and_how_to_serve_metrics() -> None:
    url = f"http://127.0.0.1:{closed_port()}/metrics"
    line = fails_with(["--metrics", url], f"cannot read metrics from {url}: ")
    assert line.endswith("is reactclip run serving them (--metrics-port)?")


def test_a_page_that_is_not_metrics(shard: str) -> None:
    fails_with(["--metrics", shard.replace("/metrics", "/nothing")], "HTTP 404")


def test_garbage_file_is_not_prometheus_text(tmp_path: Path) -> None:
    for name, content in (("html.prom", b"<html><body>hi</body></html>\n"), ("bin.prom", b"\xff\xfe\x00")):
        garbage = tmp_path / name
        garbage.write_bytes(content)
        fails_with(["--file", str(garbage)], f"{garbage} is not Prometheus text")


def test_missing_file(tmp_path: Path) -> None:
    fails_with(["--file", str(tmp_path / "absent.prom")], "cannot read")


def test_metrics_without_ab_data(tmp_path: Path) -> None:
    empty = tmp_path / "other.prom"
    registry = CollectorRegistry()
    Counter("reactclip_requests", "other metrics only", ["entry"], registry=registry).labels("slash").inc()
    empty.write_bytes(generate_latest(registry))
    fails_with(["--file", str(empty)], "no A/B data yet: ")


# The names read are the names the bot records under ---------------------------------------------


def test_names_read_match_the_bots_and_the_engines_metric_objects() -> None:
    from reactclip.bot import metrics

    assert (metrics.VARIANT_SECONDS._name, metrics.VARIANT_SECONDS._labelnames) == (
        VARIANT_SECONDS,
        ("variant",),
    )
    assert (metrics.VARIANT_OUTCOMES._name, metrics.VARIANT_OUTCOMES._labelnames) == (
        VARIANT_OUTCOMES,
        ("variant", "outcome"),
    )
    assert (metrics.VOTES._name, metrics.VOTES._labelnames) == (VOTES, ("variant", "vote"))
    assert metrics.VARIANT_SECONDS._upper_bounds == list(BOUNDS)  # the buckets the tests record with
    collected = ExecutorCollector(lambda: FakeExecutor({"a": 1}), "none").collect()  # type: ignore[arg-type, return-value]
    [assignments] = [family for family in collected if family.name == AB_ASSIGNMENTS]
    assert [sample.labels for sample in assignments.samples] == [{"variant": "a"}]
