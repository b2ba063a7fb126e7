"""gpu_check, our training step against the official sequence (tests/support/official_reference.py), from the same
weights and batch, in each precision a user trains in:
- `fp32` (TF32 off), `tf32` (torch's default: cuDNN convolutions in TF32) and `bf16` (autocast);
- gradients: issue 24's criterion, per parameter tensor: our gradient's relative distance to the float64 reference
  (the official step in float64) at most 2x the official step's in the same precision, plus 1e-6;
- time: our step and the official one alternating (target: ours at most 0.6x), and our step with each lever that
  is not on by default (cuDNN benchmark mode, a channels-last MPD, the step replayed from one CUDA graph, and the
  graph with a channels-last MPD here; `torch.compile` of the forward passes in a check of its own, the last, since
  compiling takes minutes), so a run says which wins. (Fused AdamW and a step without host syncs are on by default.)
- where the time goes: each eager step's kernel time and its convolutions' part (gpu_profile), against the
  official step's time: the convolutions' part is the floor of any lever that keeps cuDNN's convolutions.
"""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Callable, Iterator
from typing import Any

import torch
from gpu_inference_levers import cudnn_benchmark
from gpu_profile import convolution_share
from gpu_timing import tf32, timed_call
from gpu_training import batches, make_trainer

from hifigan.mel import MelSpectrogram

MODES = {"fp32": ("fp32", False), "tf32": ("fp32", True), "bf16": ("bf16", False)}  # name: (precision, TF32)
TARGET = 0.6  # our step's time over the official's (issue 24)


# Levers on the step, timed on CUDA: what `hifigan train` runs there (the graph) and the graph with a channels-last
# MPD by default; the eager levers, measured twice on an H200 (2026-12-04) and far from the graph, when asked for.
LEVERS = ("cuda-graph", "channels-last+cuda-graph")
EAGER_LEVERS = ("cudnn-benchmark", "channels-last")


def checks(settings) -> dict[str, Callable[[], dict[str, Any]]]:
    return {"train/step-vs-official": lambda: step_times(settings, LEVERS),
            "train/gradients-vs-official": lambda: gradients(settings),
            "train/lever-eager": lambda: step_times(settings, EAGER_LEVERS)}


def _modes(settings) -> list[str]:
    return list(MODES) if settings.device.type == "cuda" else ["fp32"]  # bf16 training is CUDA-only here


@contextlib.contextmanager
def _precision(mode: str, device: torch.device) -> Iterator[None]:
    """TF32 as the mode says; bf16 autocast for the official sequence (ours autocasts itself)."""
    with tf32(MODES[mode][1]):
        if mode == "bf16":
            with torch.autocast(device.type, dtype=torch.bfloat16):
                yield
        else:
            yield


def _official(trainer, dtype: torch.dtype | None = None) -> tuple[tuple, Callable[[tuple], Any]]:
    """Official copies of the trainer's modules and optimizers (in `dtype`) on its device, and one step of them."""
    from tests.support.official_reference import official_copies, ref_train_step

    if dtype is not None:
        for module in (trainer.generator, trainer.mpd, trainer.msd):
            module.to(dtype)
    ref = official_copies(trainer.config, trainer.generator, trainer.mpd, trainer.msd)
    for module in ref[:3]:
        module.to(trainer.device)
    loss_mel = MelSpectrogram(**trainer.config.mel_kwargs(for_loss=True))

    def step(batch: tuple) -> Any:
        x, y, y_mel = (t.to(trainer.device, dtype or torch.float32) for t in batch[:3])
        return ref_train_step(*ref, x, y.unsqueeze(1), y_mel, loss_mel)

    return ref, step


def _step_gradients(settings, batch: tuple, mode: str, official: bool, dtype: torch.dtype | None = None
                    ) -> dict[str, torch.Tensor]:
    """Every gradient (official key names, float64 copies) of one step from the seeded initial weights."""
    from tests.support.gradients import capture_step_gradients

    trainer = make_trainer(settings, MODES[mode][0], f"gradients-{mode}")
    grads: dict[str, dict] = {}
    if official:
        ref, step = _official(trainer, dtype)
        capture_step_gradients(*ref, official=True, into=grads)
        with _precision(mode, settings.device):
            step(batch)
    else:
        capture_step_gradients(trainer.generator, trainer.mpd, trainer.msd, trainer.optim_g, trainer.optim_d,
                               official=False, into=grads)
        with tf32(MODES[mode][1]):
            if not trainer.train_step(batch).ok:
                raise RuntimeError(f"{mode}: our step was skipped (non-finite)")
    trainer.close()
    return {**grads["d"], **grads["g"]}


def gradients(settings) -> dict[str, Any]:
    """Per mode: the criterion over every parameter tensor, with the worst tensors of both sides."""
    from tests.support.gradients import (
        CRITERION,
        criterion_bound,
        criterion_broken,
        criterion_failures,
        relative_errors,
    )

    drawing = make_trainer(settings, "fp32", "gradients-batch")
    batch = batches(drawing, 1)[0]
    drawing.close()
    reference = _step_gradients(settings, batch, "fp32", official=True, dtype=torch.float64)
    result: dict[str, Any] = {"tensors": len(reference), "criterion": CRITERION, "modes": {}, "failures": []}
    for mode in _modes(settings):
        ours_grads = _step_gradients(settings, batch, mode, official=False)
        theirs_grads = _step_gradients(settings, batch, mode, official=True)
        ours, theirs = relative_errors(ours_grads, reference), relative_errors(theirs_grads, reference)
        broken = criterion_failures(ours, theirs)
        worst = max(ours, key=lambda k: ours[k] / criterion_bound(theirs[k]))
        result["modes"][mode] = {
            "ours_max_rel": max(ours.values()), "official_max_rel": max(theirs.values()),
            "ours_median_rel": statistics.median(ours.values()),
            "official_median_rel": statistics.median(theirs.values()),
            "closest_to_bound": {"tensor": worst, "ours": ours[worst], "official": theirs[worst]},
            "broken": len(broken),
            "broken_tensors": {k: _apart(ours_grads[k], theirs_grads[k], reference[k], mode)
                               for k in criterion_broken(ours, theirs)}}
        result["failures"] += [f"{mode}: {line}" for line in broken[:10]]
    return result


def _apart(ours: torch.Tensor, official: torch.Tensor, reference: torch.Tensor, mode: str) -> dict[str, Any]:
    """How far apart a tensor that breaks the criterion is: its size, and the largest gap between our gradient and
    the official one in units of the mode's rounding step at the reference's magnitude (bf16: 8 significant bits,
    fp32 and TF32 gradients: 24)."""
    bits = 8 if mode == "bf16" else 24
    spacing = torch.exp2(torch.floor(torch.log2(reference.double().abs().clamp_min(1e-30))) - (bits - 1))
    gap = ((ours.double() - official.double()).abs() / spacing).max()
    out: dict[str, Any] = {"numel": reference.numel(), "max_gap_in_rounding_steps": float(gap)}
    if reference.numel() <= 4:
        out.update(ours=ours.flatten().tolist(), official=official.flatten().tolist(),
                   reference=reference.flatten().tolist())
    return out


@contextlib.contextmanager
def _lever(name: str, trainer) -> Iterator[None]:
    """Our step with one lever on: `cudnn-benchmark`; `channels-last` (the period discriminators' 2-D convolutions
    in NHWC, their weights converted in place); `cuda-graph` (the step replayed from one graph); `compile`
    (torch.compile of the generator and the discriminators' forward passes, which the step calls through
    state.runs); or levers joined by `+`, all on at once."""
    if "+" in name:
        with contextlib.ExitStack() as stack:
            for part in name.split("+"):
                stack.enter_context(_lever(part, trainer))
            yield
        return
    if name == "cudnn-benchmark":
        with cudnn_benchmark():
            yield
        return
    if name == "channels-last":
        mpd = trainer.discriminators["mpd"]
        _memory_format(mpd, trainer.optim_d, torch.channels_last)
        try:
            yield
        finally:
            _memory_format(mpd, trainer.optim_d, torch.contiguous_format)
        return
    if name == "cuda-graph":
        from hifigan.training.graphed import GraphedStep

        before, trainer.graphed = trainer.graphed, GraphedStep(trainer.state, trainer.step_options, cli=False)
        try:
            yield
        finally:
            trainer.graphed = before
        return
    if name == "compile":
        runs = dict(trainer.state.runs)
        for key, module in [("generator", trainer.generator), *trainer.discriminators.items()]:
            trainer.state.runs[key] = torch.compile(runs.get(key, module))
        try:
            yield
        finally:
            trainer.state.runs.clear()
            trainer.state.runs.update(runs)
        return
    yield


def _memory_format(module: torch.nn.Module, optimizer: torch.optim.Optimizer, layout: torch.memory_format) -> None:
    """`module`'s 4-D weights and their AdamW moments in `layout` (fused AdamW wants a parameter's moments laid out
    as the parameter)."""
    module.to(memory_format=layout)
    for p in module.parameters():
        state = optimizer.state.get(p, {})
        for key, value in state.items():
            if isinstance(value, torch.Tensor) and value.dim() == 4:
                state[key] = value.contiguous(memory_format=layout)


def step_times(settings, levers: tuple[str, ...]) -> dict[str, Any]:
    """Per mode: median seconds of our step and the official's, alternating; then our step per lever (on CUDA)
    and where each eager step's time goes."""
    pairs, repeats = (1, 2) if settings.quick else (6, 8)
    levers = levers if settings.device.type == "cuda" else ()
    result: dict[str, Any] = {"target_ratio": TARGET, "modes": {}, "failures": []}
    for mode in _modes(settings):
        ours = make_trainer(settings, MODES[mode][0], f"time-{mode}")
        data = batches(ours, 2)
        official_trainer = make_trainer(settings, "fp32", f"time-official-{mode}")
        _, official = _official(official_trainer)
        times: dict[str, list[float]] = {"ours": [], "official": []}
        with tf32(MODES[mode][1]):
            for i in range(pairs + 1):  # the first pair warms up (cuDNN plans, allocator)
                t_ours = timed_call(settings.device, ours.train_step, data[i % 2])[0]
                with _precision(mode, settings.device):
                    t_official = timed_call(settings.device, official, data[i % 2])[0]
                if i:
                    times["ours"].append(t_ours)
                    times["official"].append(t_official)
            row: dict[str, Any] = {k: statistics.median(v) for k, v in times.items()}
            row["ratio"] = row["ours"] / row["official"]
            for lever in levers:
                row[lever] = _lever_time(settings, lever, ours, data, repeats, row["official"])
            # Without levers both steps have just run as they are profiled: no second warm-up (quick: the CPU).
            row["profile"] = _profile(settings, mode, ours, official, data[0], row["official"], warm=not levers)
            # What `hifigan train` runs: on CUDA (one process) the graph, eager where its capture failed.
            row["default_ratio"] = row.get("cuda-graph", {}).get("ratio_to_official", row["ratio"])
            row["target_met"] = row["default_ratio"] <= TARGET
        result["modes"][mode] = row
        ours.close()
        official_trainer.close()
    return result


def _profile(settings, mode: str, ours, official: Callable[[tuple], Any], batch: tuple,
             official_s: float, warm: bool) -> dict[str, Any]:
    """Each eager step's time in kernels (CPU: operators) and in its convolutions, ours and the official's, and
    ours against the official step's wall time: with its kernels back to back (the graph) ours takes at least
    `ours_total_to_official_step` of it, and whatever else is removed, at least `ours_convolutions_to_official_step`."""
    try:
        mine = convolution_share(lambda: ours.train_step(batch), settings.device, warm)
        with _precision(mode, settings.device):
            theirs = convolution_share(lambda: official(batch), settings.device, warm)
    except Exception as e:  # a profile that fails is a finding, not the end of the check
        return {"error": f"{type(e).__name__}: {str(e).strip()[:300]}"}
    return {"ours": mine, "official": theirs, "ours_total_to_official_step": mine["total_ms"] / 1000 / official_s,
            "ours_convolutions_to_official_step": mine["convolutions_ms"] / 1000 / official_s}


def _lever_time(settings, lever: str, trainer, data: list, repeats: int, official_s: float) -> dict[str, Any]:
    """Our step's median time with `lever` on, against the official step's `official_s`."""
    from hifigan.training.graphed import WARMUP_STEPS

    first = WARMUP_STEPS + 1 if lever == "cuda-graph" else 2  # eager warm-up, then the capture: not timed
    try:
        with _lever(lever, trainer):
            spent = [timed_call(settings.device, trainer.train_step, data[i % 2])[0]
                     for i in range(repeats + first)]
    except Exception as e:  # a lever that fails is a finding, not the end of the check
        return {"error": f"{type(e).__name__}: {str(e).strip()[:300]}"}
    return {"first_s": spent[0], "median_s": statistics.median(spent[first:]),
            "ratio_to_official": statistics.median(spent[first:]) / official_s}


def compile_lever(settings) -> dict[str, Any]:
    """torch.compile of the forward passes at torch's defaults (TF32): our step's time with and without it, and
    the official step's; the compile itself is the first steps' time."""
    if settings.device.type != "cuda":
        return {"skipped": "measured on CUDA only (compiling on the CPU takes minutes and says nothing of the GPU)"}
    ours = make_trainer(settings, "fp32", "lever-compile")
    data = batches(ours, 2)
    official_trainer = make_trainer(settings, "fp32", "lever-compile-official")
    _, official = _official(official_trainer)
    with tf32(True):
        for i in range(3):  # warm-up
            timed_call(settings.device, ours.train_step, data[i % 2])
        plain = statistics.median(timed_call(settings.device, ours.train_step, data[i % 2])[0] for i in range(8))
        reference = statistics.median(timed_call(settings.device, official, data[i % 2])[0] for i in range(8))
        result = {"plain_s": plain, "official_s": reference,
                  "compile": _lever_time(settings, "compile", ours, data, 8, reference), "failures": []}
    ours.close()
    official_trainer.close()
    return result
