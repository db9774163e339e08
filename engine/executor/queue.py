"""Jobs and the fair queue they wait in.

Within one priority class nobody can starve the others: jobs are served round-robin over guilds,
and within a guild round-robin over users, so a guild with 20 queued requests delays another
guild's single request by at most one of its own. A batch that interactive work preempted goes
back ahead of all of them (``push_front``): it was served already and only lost its turn.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

from reactclip.engine.clip import Clip
from reactclip.engine.executor.handle import ClipHandle
from reactclip.engine.spec import GenerationSpec


class Priority(StrEnum):
    INTERACTIVE = "interactive"
    """A person is waiting (Discord, the CLI's generate)."""
    BATCH = "batch"
    """Nobody is watching (batch runs, cache warming); yields to interactive work."""


@dataclass(eq=False)
class Job:
    """One generation, shared by every handle that asked for the same clip."""

    spec: GenerationSpec
    priority: Priority
    guild: str
    user: str
    key: str | None = None
    """Cache key; identical requests in flight share the job."""
    degraded: bool = False
    handles: list[ClipHandle] = field(default_factory=list)
    enqueued_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None
    decoding_sent: bool = False
    preemptions: int = 0
    """Times interactive work stopped this job's call; past ``max_preemptions`` it runs to the end."""
    clip: Clip | None = None
    """Set once the clip is delivered, while it is being stored."""
    made_by: str | None = None
    """The backend chain entry that rendered ``clip``: the spec's variant, or a fallback name."""


class FairQueue:
    """Jobs of one priority class, by guild then user; dict order is the round-robin order."""

    def __init__(self) -> None:
        self._front: deque[Job] = deque()
        """Jobs put back by ``push_front``: served before the rotation, in their order."""
        self._guilds: dict[str, dict[str, deque[Job]]] = {}

    def __len__(self) -> int:
        return len(self._front) + sum(len(jobs) for users in self._guilds.values() for jobs in users.values())

    def __bool__(self) -> bool:
        return bool(self._front) or bool(self._guilds)

    def __contains__(self, job: Job) -> bool:
        return job in self._front or job in self._guilds.get(job.guild, {}).get(job.user, ())

    def count(self, guild: str) -> int:
        """Jobs of ``guild`` waiting here (put-back jobs included)."""
        waiting = sum(len(jobs) for jobs in self._guilds.get(guild, {}).values())
        return waiting + sum(1 for job in self._front if job.guild == guild)

    def push(self, job: Job) -> None:
        self._guilds.setdefault(job.guild, {}).setdefault(job.user, deque()).append(job)

    def push_front(self, jobs: list[Job]) -> None:
        """Put jobs that were taken back ahead of every other, in the given order (a preempted batch).
        The rotation is left alone: it moved on when they were taken."""
        self._front.extendleft(reversed(jobs))

    def ordered(self) -> list[Job]:
        """Every job in the order it would be served if nothing else arrived."""
        return [*self._front, *self._rotation()]

    def _rotation(self) -> list[Job]:
        rounds = deque(deque(deque(jobs) for jobs in users.values()) for users in self._guilds.values())
        served: list[Job] = []
        while rounds:
            users = rounds.popleft()
            jobs = users.popleft()
            served.append(jobs.popleft())
            if jobs:
                users.append(jobs)
            if users:
                rounds.append(users)
        return served

    def take(self, job: Job) -> None:
        """Remove a job that is about to run; its guild and user go to the back of the rotation."""
        if job in self._front:
            self._front.remove(job)
            return
        self.remove(job)
        users = self._guilds.pop(job.guild, None)
        if users is None:
            return
        jobs = users.pop(job.user, None)
        if jobs:
            users[job.user] = jobs
        self._guilds[job.guild] = users

    def remove(self, job: Job) -> bool:
        """Remove a job without touching the rotation (a cancelled or abandoned request)."""
        if job in self._front:
            self._front.remove(job)
            return True
        users = self._guilds.get(job.guild)
        jobs = users.get(job.user) if users else None
        if users is None or jobs is None or job not in jobs:
            return False
        jobs.remove(job)
        if not jobs:
            del users[job.user]
        if not users:
            del self._guilds[job.guild]
        return True
