"""The real diffusers WanPipeline path, end to end on a CPU, with tiny random weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import DPMSolverMultistepScheduler, UniPCMultistepScheduler, WanPipeline

from reactclip.engine.backends import BackendError, StepProgress, auto_choice, create_backend
from reactclip.engine.backends.wan import WanBackend
from reactclip.engine.backends.wan.fewstep import FixedScheduleScheduler
from reactclip.engine.backends.wan.loading import find_local_weights, resolve_weights
from reactclip.engine.backends.wan.memory import (
    PLANS,
    WAN22_TI2V_5B,
    ModelBytes,
    Plan,
    activation_bytes,
    choose,
    estimate,
    place,
)
from reactclip.engine.backends.wan.tiny import build_tiny_wan_pipeline
from reactclip.engine.backends.wan.tiny import tiny_backend as fresh_tiny_backend
from reactclip.engine.service import backend_factory
from reactclip.engine.settings import EngineSettings, WanSettings
from reactclip.engine.spec import GenerationSpec

pytestmark = pytest.mark.slow


def small_spec(**fields: object) -> GenerationSpec:
    base: dict[str, object] = {"prompt": "a cat", "width": 160, "height": 128, "frames": 8, "steps": 3}
    return GenerationSpec(**(base | fields))  # type: ignore[arg-type]


def test_tiny_wan_is_the_real_pipeline_with_wan22_ti2v_geometry(tiny_backend: WanBackend) -> None:
    pipe = tiny_backend.pipeline
    assert isinstance(pipe, WanPipeline)
    assert pipe.config.expand_timesteps is True
    assert pipe.vae.config.z_dim == 48 and pipe.vae.config.scale_factor_spatial == 16
    assert isinstance(pipe.scheduler, UniPCMultistepScheduler)


def test_tiny_wan_gives_the_asked_frames_and_size_and_a_progress_event_per_step(
    tiny_backend: WanBackend,
) -> None:
    events: list[StepProgress] = []
    spec = small_spec(width=320, height=240, frames=10, steps=4)
    [result] = tiny_backend.generate([spec], events.append)
    assert result.frames.shape == (10, 240, 320, 3)
    assert result.frames.dtype == np.uint8
    assert [(e.stage, e.step, e.total) for e in events] == [("denoising", i, 4) for i in range(1, 5)]
    t = result.timings
    assert t.text_encoding > 0 and t.denoising > 0 and t.decoding > 0
    assert result.frames.std() > 1, "decoded frames should not be a flat colour"


def test_same_seed_same_frames_and_other_seed_other_frames(tiny_backend: WanBackend) -> None:
    a = tiny_backend.generate([small_spec(seed=7)])[0].frames
    b = tiny_backend.generate([small_spec(seed=7)])[0].frames
    c = tiny_backend.generate([small_spec(seed=8)])[0].frames
    assert np.array_equal(a, b)
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 5


def test_a_batch_matches_the_same_specs_run_alone(tiny_backend: WanBackend) -> None:
    specs = [small_spec(seed=1, prompt="joy"), small_spec(seed=2, prompt="rage")]
    batch = tiny_backend.generate(specs)
    alone = [tiny_backend.generate([s])[0] for s in specs]
    for together, single in zip(batch, alone, strict=True):
        # Batched float maths may differ in the last bit; never more than one grey level.
        assert np.abs(together.frames.astype(int) - single.frames.astype(int)).max() <= 1
    assert not np.array_equal(batch[0].frames, batch[1].frames)


def test_incompatible_specs_cannot_share_a_batch(tiny_backend: WanBackend) -> None:
    with pytest.raises(ValueError, match="must share"):
        tiny_backend.generate([small_spec(), small_spec(steps=5)])


def test_without_guidance_the_negative_prompt_is_not_encoded(tiny_backend: WanBackend) -> None:
    a = tiny_backend.generate([small_spec(guidance=1.0, negative_prompt="one")])[0].frames
    b = tiny_backend.generate([small_spec(guidance=1.0, negative_prompt="two")])[0].frames
    c = tiny_backend.generate([small_spec(guidance=7.0, negative_prompt="two")])[0].frames
    assert np.array_equal(a, b)
    assert not np.array_equal(b, c)


def test_wan_backend_loads_a_local_folder_with_from_pretrained(tiny_wan_dir: Path) -> None:
    settings = WanSettings(model=str(tiny_wan_dir), device="cpu", scheduler="dpm", flow_shift=3.0)
    backend = WanBackend.from_settings(settings)
    try:
        assert isinstance(backend.pipeline.scheduler, DPMSolverMultistepScheduler)
        assert backend.pipeline.scheduler.config.flow_shift == 3.0
        assert backend.pipeline.vae.dtype == torch.float32
        assert backend.variant.endswith("+dpm")
        [result] = backend.generate([small_spec()])
        assert result.frames.shape == (8, 128, 160, 3)
    finally:
        backend.close()


@pytest.mark.parametrize("hook", ["first_block", "taylorseer"])
def test_cache_hooks_apply_to_the_real_transformer_and_are_named_in_the_variant(
    tiny_wan_dir: Path, hook: str
) -> None:
    settings = WanSettings(model=str(tiny_wan_dir), device="cpu", cache_hook=hook)  # type: ignore[arg-type]
    backend = WanBackend.from_settings(settings)
    try:
        assert ("fbcache" if hook == "first_block" else "taylorseer") in backend.variant
        [result] = backend.generate([small_spec(steps=6)])
        assert result.frames.shape == (8, 128, 160, 3)
    finally:
        backend.close()


def test_magcache_without_calibrated_ratios_is_refused_clearly(tiny_wan_dir: Path) -> None:
    settings = WanSettings(model=str(tiny_wan_dir), device="cpu", cache_hook="mag")
    with pytest.raises(BackendError, match="calibrated ratios"):
        WanBackend.from_settings(settings)


def test_missing_weights_give_a_clear_error_without_any_download(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="not a diffusers model folder"):
        resolve_weights(WanSettings(model=str(tmp_path), device="cpu"))
    with pytest.raises(BackendError, match="no Wan weights"):
        resolve_weights(WanSettings(model=str(tmp_path / "absent"), device="cpu"))
    offline = WanSettings(model="Wan-AI/Wan2.2-TI2V-5B-Diffusers", allow_download=False)
    assert find_local_weights(offline) is None
    with pytest.raises(BackendError, match="downloads are off"):
        resolve_weights(offline)


def test_wan_without_cuda_is_refused_before_loading_anything() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the refusal is for machines without it")
    with pytest.raises(BackendError, match="needs a CUDA GPU"):
        create_backend(EngineSettings(backend="wan"))


def test_auto_picks_the_sticker_where_wan_cannot_run_and_says_why(tiny_wan_dir: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    name, reason = auto_choice(EngineSettings(wan=WanSettings(model=str(tiny_wan_dir))))
    assert (name, reason) == ("sticker", "no CUDA GPU is visible")
    assert create_backend(EngineSettings()).name == "sticker"


def counting_text_encoder(backend: WanBackend) -> list[int]:
    """The batch size of every forward call of the pipeline's UMT5 text encoder."""
    calls: list[int] = []
    backend.pipeline.text_encoder.register_forward_hook(
        lambda module, args, output: calls.append(len(args[0]))
    )
    return calls


def test_a_prompt_seen_before_skips_the_text_encoder_and_gives_the_same_frames() -> None:
    cached, uncached = fresh_tiny_backend(), fresh_tiny_backend()
    uncached.embeddings.max_entries = 0
    calls = counting_text_encoder(cached)

    first = cached.generate([small_spec(seed=3)])[0]
    assert calls == [2] and first.timings.prompts_cached == 0  # the prompt and the negative prompt, once
    again = cached.generate([small_spec(seed=4), small_spec(seed=5, prompt="a dog")])[0]
    assert calls == [2, 1]  # only "a dog" was new: the cat and the shared negative prompt were kept
    assert again.timings.prompts_cached == 3
    same = cached.generate([small_spec(seed=3)])[0]
    assert calls == [2, 1] and same.timings.prompts_cached == 2
    assert np.array_equal(same.frames, first.frames)
    assert np.array_equal(same.frames, uncached.generate([small_spec(seed=3)])[0].frames)


def test_the_embedding_cache_keeps_at_most_its_bound_least_recently_used_out() -> None:
    backend = fresh_tiny_backend()
    backend.embeddings.max_entries = 2
    calls = counting_text_encoder(backend)
    encode = backend._encode_texts
    for texts in (["a", "b"], ["a"], ["c"], ["a", "b"]):
        rows, _ = backend.embeddings.encode(texts, encode, backend.device)
        assert rows.shape[0] == len(texts)
    # "a" stayed fresh, "b" went out when "c" came in, so only "b" is encoded again.
    assert calls == [2, 1, 1] and len(backend.embeddings) == 2


def test_a_step_distilled_schedule_runs_its_timesteps_once_each_without_guidance() -> None:
    backend = WanBackend(
        build_tiny_wan_pipeline(), torch.device("cpu"), variant="fast", timesteps=[1000, 757, 522]
    )
    seen: list[float] = []
    backend.pipeline.transformer.register_forward_hook(
        lambda module, args, kwargs, output: seen.append(float(kwargs["timestep"].flatten()[0])),
        with_kwargs=True,
    )
    events: list[StepProgress] = []
    # The spec asks for 20 guided steps; the distilled model's schedule decides instead.
    [clip] = backend.generate([small_spec(steps=20, guidance=7.0, seed=9)], events.append)
    assert seen == [1000.0, 757.0, 522.0]  # three transformer calls: no unconditional pass
    assert [(e.step, e.total) for e in events] == [(1, 3), (2, 3), (3, 3)]
    assert clip.frames.shape == (8, 128, 160, 3)
    again = backend.generate([small_spec(steps=20, guidance=7.0, seed=9)])[0]
    assert np.array_equal(again.frames, clip.frames)  # deterministic steps: the same seed, the same clip


def test_a_bad_schedule_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="descending"):
        FixedScheduleScheduler(timesteps=[522, 757, 1000])
    with pytest.raises(ValueError, match="1-1000"):
        FixedScheduleScheduler(timesteps=[2000, 500])


def test_a_distilled_variant_loads_its_weights_with_its_schedule_and_says_so(tiny_wan_dir: Path) -> None:
    settings = EngineSettings(
        backend="wan",
        wan=WanSettings(model=str(tiny_wan_dir), device="cpu"),
        variant_models={"fast": str(tiny_wan_dir)},
        variant_timesteps={"fast": [1000, 500]},
    )
    build = backend_factory(settings)
    fast, base = build("fast"), build("default")
    assert isinstance(fast.pipeline.scheduler, FixedScheduleScheduler) and fast.fixed_steps == 2
    assert "fewstep2" in fast.variant and "fewstep" not in base.variant
    assert isinstance(base.pipeline.scheduler, UniPCMultistepScheduler)


@pytest.mark.parametrize("plan", PLANS)
def test_every_memory_plan_renders_with_the_real_pipeline_code(plan: Plan) -> None:
    pipe = build_tiny_wan_pipeline()
    text_device = place(pipe, plan, torch.device("cpu"))
    backend = WanBackend(pipe, torch.device("cpu"), variant=f"tiny+{plan}", text_device=text_device)
    [clip] = backend.generate([small_spec(seed=2)])
    assert clip.frames.shape == (8, 128, 160, 3)
    if plan == "text-encoder-offload":
        assert text_device.type == "cpu" and next(pipe.text_encoder.parameters()).device.type == "cpu"


def test_plans_cost_less_memory_in_order_and_auto_takes_the_fastest_that_fits() -> None:
    spec = GenerationSpec(prompt="reference")
    estimates = [estimate(plan, WAN22_TI2V_5B, spec) for plan in PLANS]
    assert estimates == sorted(estimates, reverse=True) and len(set(estimates)) == len(PLANS)
    assert estimates[0] > WAN22_TI2V_5B.text_encoder + WAN22_TI2V_5B.transformer + WAN22_TI2V_5B.vae
    assert estimate("full", WAN22_TI2V_5B, spec, batch=4) > estimates[0]
    chosen = []
    for free_gib in (80, 48, 24, 16, 12, 8):
        plan, why = choose(free_gib * 2**30, WAN22_TI2V_5B, spec, margin=0.1)
        budget = free_gib * 2**30 * 0.9
        index = PLANS.index(plan)
        assert estimates[index] <= budget, why  # it fits...
        assert all(estimates[faster] > budget for faster in range(index)), why  # ...and nothing faster does
        chosen.append(plan)
    assert chosen[0] == "full" and chosen[-1] == "group-offload" and len(set(chosen)) == len(PLANS)
    plan, why = choose(2**30, WAN22_TI2V_5B, spec)
    assert plan == "group-offload" and why.startswith("even group-offload needs")


def test_model_bytes_count_every_parameter_and_buffer_in_its_dtype() -> None:
    pipe = build_tiny_wan_pipeline()
    sizes = ModelBytes.of(pipe)
    by_hand = sum(p.numel() * p.element_size() for p in pipe.transformer.parameters())
    by_hand += sum(b.numel() * b.element_size() for b in pipe.transformer.buffers())
    assert sizes.transformer == by_hand > 0 and sizes.text_encoder > 0 and sizes.vae > 0


def test_a_batch_bigger_than_the_free_memory_allows_runs_in_turns_with_the_same_frames() -> None:
    spec = small_spec(seed=1)
    per_clip = max(activation_bytes(spec, 1))
    free = [int(per_clip * 2.5 / 0.9)]  # room for two clips' activations, after the margin
    tight = WanBackend(
        build_tiny_wan_pipeline(), torch.device("cpu"), variant="x", free_memory=lambda: free[0]
    )
    roomy = WanBackend(build_tiny_wan_pipeline(), torch.device("cpu"), variant="x")
    batches: list[int] = []
    tight.pipeline.transformer.register_forward_hook(
        lambda module, args, kwargs, output: batches.append(kwargs["hidden_states"].shape[0]),
        with_kwargs=True,
    )
    specs = [small_spec(seed=n, prompt=f"cat {n}") for n in range(5)]
    assert tight.max_batch_for(spec) == 2 and roomy.max_batch_for(spec) > 5
    in_turns = tight.generate(specs)
    assert sorted(set(batches)) == [1, 2]  # turns of two, two and one clip; never five at once
    together = roomy.generate(specs)
    for a, b in zip(in_turns, together, strict=True):
        assert np.abs(a.frames.astype(int) - b.frames.astype(int)).max() <= 1
    free[0] = 0
    assert tight.max_batch_for(spec) == 1  # always at least one: it may still fit, or fail as OOM


def test_the_memory_plan_setting_reaches_the_loaded_pipeline(tiny_wan_dir: Path) -> None:
    offloaded = WanBackend.from_settings(
        WanSettings(model=str(tiny_wan_dir), device="cpu", memory_plan="model-offload")
    )
    assert offloaded.pipeline._all_hooks  # diffusers' model CPU offload hooks are in place
    assert offloaded.generate([small_spec()])[0].frames.shape == (8, 128, 160, 3)
    auto = WanBackend.from_settings(WanSettings(model=str(tiny_wan_dir), device="cpu"))
    assert not getattr(auto.pipeline, "_all_hooks", [])  # on the CPU, auto keeps everything in place
