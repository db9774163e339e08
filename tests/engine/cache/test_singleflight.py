"""SingleFlight: identical requests in flight at once share one call."""

from __future__ import annotations

import asyncio

import pytest

from reactclip.engine.cache import SingleFlight


class Maker:
    """Counts its calls; each call waits on ``release`` so callers overlap."""

    def __init__(self, result: object = "clip", error: Exception | None = None) -> None:
        self.calls = 0
        self.cancelled = 0
        self.release = asyncio.Event()
        self.result = result
        self.error = error

    async def __call__(self) -> object:
        self.calls += 1
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if self.error is not None:
            raise self.error
        return self.result


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_ten_concurrent_identical_calls_run_the_maker_once() -> None:
    async def scenario() -> None:
        flights = SingleFlight()
        maker = Maker()
        callers = [asyncio.create_task(flights.run("k", maker)) for _ in range(10)]
        await settle()
        assert flights.in_flight() == 1
        maker.release.set()
        assert await asyncio.gather(*callers) == ["clip"] * 10
        assert maker.calls == 1
        assert flights.in_flight() == 0

    asyncio.run(scenario())


def test_different_keys_run_separately() -> None:
    async def scenario() -> None:
        flights = SingleFlight()
        makers = {key: Maker(result=key) for key in "abc"}
        callers = [asyncio.create_task(flights.run(key, makers[key])) for key in "abcabc"]
        await settle()
        assert flights.in_flight() == 3
        for maker in makers.values():
            maker.release.set()
        assert await asyncio.gather(*callers) == list("abcabc")
        assert [maker.calls for maker in makers.values()] == [1, 1, 1]

    asyncio.run(scenario())


def test_a_call_after_the_first_finished_runs_again() -> None:
    async def scenario() -> None:
        flights = SingleFlight()
        maker = Maker()
        maker.release.set()
        assert await flights.run("k", maker) == "clip"
        assert await flights.run("k", maker) == "clip"
        assert maker.calls == 2

    asyncio.run(scenario())


def test_leader_failure_reaches_every_waiter_and_the_next_call_retries() -> None:
    async def scenario() -> None:
        flights = SingleFlight()
        failing = Maker(error=RuntimeError("CUDA out of memory"))
        callers = [asyncio.create_task(flights.run("k", failing)) for _ in range(5)]
        await settle()
        failing.release.set()
        outcomes = await asyncio.gather(*callers, return_exceptions=True)
        assert all(isinstance(o, RuntimeError) and "out of memory" in str(o) for o in outcomes)
        assert failing.calls == 1
        retry = Maker()
        retry.release.set()
        assert await flights.run("k", retry) == "clip"
        assert retry.calls == 1

    asyncio.run(scenario())


def test_cancelling_one_waiter_does_not_cancel_the_others() -> None:
    async def scenario() -> None:
        flights = SingleFlight()
        maker = Maker()
        leader = asyncio.create_task(flights.run("k", maker))
        others = [asyncio.create_task(flights.run("k", maker)) for _ in range(3)]
        await settle()
        leader.cancel()
        others[0].cancel()
        await settle()
        assert leader.cancelled() and others[0].cancelled()
        maker.release.set()
        assert await asyncio.gather(*others[1:]) == ["clip", "clip"]
        assert maker.calls == 1 and maker.cancelled == 0

    asyncio.run(scenario())


def test_when_every_waiter_is_cancelled_the_shared_call_is_cancelled() -> None:
    async def scenario() -> None:
        flights = SingleFlight()
        maker = Maker()
        callers = [asyncio.create_task(flights.run("k", maker)) for _ in range(3)]
        await settle()
        for caller in callers:
            caller.cancel()
        await settle()
        assert maker.cancelled == 1
        assert flights.in_flight() == 0
        # The key is free: a new caller starts a fresh call rather than joining the cancelled one.
        fresh = Maker()
        fresh.release.set()
        assert await flights.run("k", fresh) == "clip"

    asyncio.run(scenario())


def test_a_maker_that_raises_before_awaiting_leaves_no_flight_behind() -> None:
    def broken() -> asyncio.Future[str]:
        raise ValueError("bad spec")

    async def scenario() -> None:
        flights = SingleFlight()
        with pytest.raises(ValueError, match="bad spec"):
            await flights.run("k", broken)
        assert flights.in_flight() == 0

    asyncio.run(scenario())
