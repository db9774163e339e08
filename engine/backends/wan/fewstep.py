"""A sampler for step-distilled Wan models (FastWan2.2-TI2V-5B and the like): a fixed list of
timesteps, e.g. 1000, 757, 522, with classifier-free guidance off, so a clip takes three
transformer calls where the base model takes forty (twenty steps, two calls each).

diffusers 0.42's WanPipeline takes no custom timesteps: it asks its scheduler for
``num_inference_steps`` and walks ``scheduler.timesteps``. So the schedule lives in a scheduler of
its own, and the pipeline, the model and the rest of the backend stay as they are. Each step moves
along the flow from sigma to the next sigma on the model's velocity (x0 = x - sigma v; the next
sample is x + (sigma_next - sigma) v), the deterministic path, ending at sigma 0. Distillation
recipes such as DMD re-noise between steps instead; the deterministic path keeps a seed's clip the
same every time, which the cache and the Regenerate button rely on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.schedulers.scheduling_utils import SchedulerMixin

DEFAULT_TIMESTEPS = (1000, 757, 522)
"""FastWan2.2-TI2V-5B's three-step schedule."""


class FixedScheduleScheduler(SchedulerMixin, ConfigMixin):
    """Flow-matching steps along ``timesteps`` (out of ``num_train_timesteps``), whatever number of
    steps the pipeline asks for."""

    order = 1

    @register_to_config
    def __init__(self, timesteps: Sequence[int] = DEFAULT_TIMESTEPS, num_train_timesteps: int = 1000) -> None:
        if not timesteps or any(not 0 < t <= num_train_timesteps for t in timesteps):
            raise ValueError(f"timesteps must lie in 1-{num_train_timesteps}, got {list(timesteps)}")
        if list(timesteps) != sorted(timesteps, reverse=True):
            raise ValueError(f"timesteps must run from noise to image (descending), got {list(timesteps)}")
        self.set_timesteps()

    def set_timesteps(self, num_inference_steps: int | None = None, device: Any = None) -> None:
        """The configured schedule; ``num_inference_steps`` is ignored (the schedule is the model's)."""
        steps = torch.tensor(self.config.timesteps, dtype=torch.float32)
        self.timesteps = steps.to(device)
        self.sigmas = torch.cat([steps / self.config.num_train_timesteps, torch.zeros(1)])
        self.num_inference_steps = len(steps)
        self._step_index = 0

    def set_begin_index(self, begin_index: int = 0) -> None:
        self._step_index = begin_index

    def step(
        self, model_output: torch.Tensor, timestep: Any, sample: torch.Tensor, return_dict: bool = True
    ) -> tuple[torch.Tensor]:
        """The next sample along the velocity ``model_output``, in float32 for the update."""
        sigma, next_sigma = self.sigmas[self._step_index], self.sigmas[self._step_index + 1]
        moved = sample.float() + (next_sigma - sigma) * model_output.float()
        self._step_index += 1
        return (moved.to(sample.dtype),)
