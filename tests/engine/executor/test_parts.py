"""The executor's pure parts: the fair queue, batch picking, the cost model, degradation, A/B."""

from __future__ import annotations

from collections import Counter

import pytest

from reactclip.engine.executor.abtest import VariantChooser
from reactclip.engine.executor.batching import pick_batch
from reactclip.engine.executor.errors import Busy
from reactclip.engine.executor.failover import Failover
from reactclip.engine.executor.load import CostModel, degrade, work_units
from reactclip.engine.executor.queue import FairQueue, Job, Priority
from reactclip.engine.executor.settings import ExecutorSettings
from reactclip.engine.spec import GenerationSpec


def job(name: str, guild: str = "g", user: str = "u", at: float = 0.0, **spec: object) -> Job:
    fields: dict[str, object] = {"prompt": name, "width": 128, "height": 128, "frames": 8, **spec}
    return Job(GenerationSpec(**fields), Priority.BATCH, guild, user, enqueued_at=at)


def names(jobs: list[Job]) -> list[str]:
    return [j.spec.prompt for j in jobs]


def test_fair_queue_serves_guilds_round_robin_then_users_within_a_guild() -> None:
    queue = FairQueue()
    for i in range(3):
        queue.push(job(f"a1-{i}", "A", "1"))
    queue.push(job("a2-0", "A", "2"))
    queue.push(job("b1-0", "B", "1"))
    assert names(queue.ordered()) == ["a1-0", "b1-0", "a2-0", "a1-1", "a1-2"]
    assert len(queue) == 5


def test_taking_a_job_sends_its_guild_and_user_to_the_back() -> None:
    queue = FairQueue()
    a0, a1, b0 = job("a0", "A"), job("a1", "A"), job("b0", "B")
    for j in (a0, a1, b0, job("c0", "C")):
        queue.push(j)
    assert names(queue.ordered()) == ["a0", "b0", "c0", "a1"]
    queue.take(a0)
    assert names(queue.ordered()) == ["b0", "c0", "a1"]
    assert queue.remove(b0) and not queue.remove(b0)
    assert names(queue.ordered()) == ["c0", "a1"]


def test_interactive_work_is_picked_before_batch_work_and_alone() -> None:
    interactive, batch = FairQueue(), FairQueue()
    batch.push(job("b", at=0.0))
    interactive.push(job("i1"))
    interactive.push(job("i2"))
    picked, _ = pick_batch(interactive, batch, max_interactive_batch=1, max_batch=4, max_wait_s=0.0, now=10.0)
    assert names(picked) == ["i1"]


def test_batch_groups_hold_only_compatible_specs_and_wait_for_company_up_to_max_wait() -> None:
    interactive, batch = FairQueue(), FairQueue()
    for i in range(3):
        batch.push(job(f"small{i}", user=str(i), at=0.0))
    batch.push(job("big", user="9", at=0.0, width=256, height=256))
    picked, wake_at = pick_batch(
        interactive, batch, max_interactive_batch=1, max_batch=4, max_wait_s=0.5, now=0.1
    )
    assert picked == [] and wake_at == pytest.approx(0.5)
    picked, _ = pick_batch(interactive, batch, max_interactive_batch=1, max_batch=4, max_wait_s=0.5, now=0.5)
    assert names(picked) == ["small0", "small1", "small2"]
    assert len({j.spec.batch_key() for j in picked}) == 1


def test_a_full_batch_group_goes_at_once() -> None:
    interactive, batch = FairQueue(), FairQueue()
    for i in range(5):
        batch.push(job(f"s{i}", user=str(i), at=0.0))
    picked, _ = pick_batch(interactive, batch, max_interactive_batch=1, max_batch=4, max_wait_s=60.0, now=0.0)
    assert len(picked) == 4


def test_the_cost_model_follows_observed_timings() -> None:
    spec = GenerationSpec(prompt="x", width=832, height=480, frames=16, steps=20)
    model = CostModel(seconds_per_unit=0.02, overhead_s=0.5)
    assert model.estimate([spec], "wan") == pytest.approx(0.5 + 0.02 * work_units(spec))
    model.observe([spec], "wan", 0.5 + 0.1 * work_units(spec))
    assert model.rate("wan") == pytest.approx(0.1)
    assert model.rate("sticker") == 0.02


@pytest.mark.parametrize(
    ("size", "expected"), [((832, 480), (320, 240)), ((480, 832), (240, 320)), ((480, 480), (240, 240))]
)
def test_degrading_by_size_keeps_the_orientation(size: tuple[int, int], expected: tuple[int, int]) -> None:
    spec = GenerationSpec(prompt="x", width=size[0], height=size[1])
    smaller = degrade(spec, "size", (320, 240), 8)
    assert smaller is not None and (smaller.width, smaller.height) == expected


def test_degrading_by_frames_gives_eight_and_nothing_when_already_small() -> None:
    spec = GenerationSpec(prompt="x", frames=16)
    assert degrade(spec, "frames", (320, 240), 8) == spec.replace(frames=8)
    assert degrade(spec.replace(frames=8), "frames", (320, 240), 8) is None
    assert degrade(spec.replace(width=256, height=128), "size", (320, 240), 8) is None


def test_the_ab_split_is_within_tolerance_over_2000_users_and_sticky() -> None:
    chooser = VariantChooser({"wan-a": 0.9, "wan-b": 0.1})
    users = [f"user-{i}" for i in range(2000)]
    counts = Counter(chooser.choose(u) for u in users)
    assert abs(counts["wan-b"] / 2000 - 0.1) < 0.02  # 3 standard deviations
    assert all(chooser.choose(u) == chooser.choose(u) for u in users[:200])
    assert VariantChooser({"wan-b": 0.1, "wan-a": 0.9}).choose("user-7") == chooser.choose("user-7")


def test_failover_switches_after_exactly_the_threshold_and_stops_at_the_last_fallback() -> None:
    failover = Failover(["backup", "sticker"], threshold=3)
    error = RuntimeError("boom")
    assert failover.record_failure("wan", error) is None
    assert failover.record_failure("wan", error) is None
    alert = failover.record_failure("wan", error)
    assert alert is not None and (alert.from_backend, alert.to_backend) == ("primary", "backup")
    assert failover.backend_for("wan") == "backup"
    assert failover.record_failure("wan", error) is None  # a late failure of the link we left
    for _ in range(6):
        failover.record_failure(failover.backend_for("wan"), error)
    assert failover.backend_for("wan") == "sticker"
    failover.recover()
    assert failover.on_primary


def test_busy_says_when_to_try_again() -> None:
    assert str(Busy(3.2)) == "busy, try again in 4 s"
    assert Busy(0.01).retry_after_s == 1


def test_settings_refuse_negative_variant_weights() -> None:
    with pytest.raises(ValueError, match="variant weights"):
        ExecutorSettings(variants={"wan-a": -1.0})
