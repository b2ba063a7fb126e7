"""The training step under DDP against the official sequence: 2 CPU processes over gloo each run our step
(training.step.train_step, the models DDP-wrapped by training.distributed.wrap_ddp as `hifigan train` wraps them)
on their shard of a global batch; this process runs the official sequence (tests/support/official_reference.py) on the
whole batch, from the same initial weights.

Every loss term is a mean and the ranks' batches are equal in size, so the mean over ranks of their losses is the
global loss: the averaged gradients must be the official ones (float32, one step; float64, every step), and after
the steps every weight and spectral-norm u/v the official ones (float64), identical on both ranks.
"""

from __future__ import annotations

import gc
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import torch

from hifigan import Trainer, TrainOptions
from hifigan.checkpoints.official import ours_to_official
from hifigan.data.clip_scan import scan_clips
from hifigan.data.corpus import Corpus
from hifigan.mel import MelSpectrogram
from hifigan.training.data_parallel import DistInfo, end_worker_process, wrap_ddp
from tests.support.gradients import capture_gradients, named_parameters, relative_errors
from tests.support.marks import LARGE_MEMORY
from tests.support.official_reference import official_copies, ref_train_step
from tests.support.threads import threads
from tests.support.tiny import tiny_config
from tests.support.torchrun import fork_ranks, free_port

# Two rank processes beside the worker: never beside another large_memory test.
pytestmark = LARGE_MEMORY

WORLD, PER_RANK = 2, 2  # 6 training clips of the tiny corpus: one step per epoch, 4 of them per step
PHASES = {"float32": (torch.float32, 1), "float64": (torch.float64, 3)}  # dtype, steps
MODELS = ("generator", "mpd", "msd")
D_TENSORS = 5 * 6 * 3 + 8 * 2 + 2 * 8 * 3  # MPD: 5 x 6 weight-normed convs; MSD: 8 spectral-normed, 2 x 8 weight-normed
# Measured (2 ranks x 2 clips against 1 x 4 clips) with the official widths: in float32 every gradient tensor of more
# than one element within 9.5e-7 (D: 5.8e-7), but the single-element output gains (conv_post.weight_g), whose
# gradients cancel: MSD scale 2's is 1.7e-5 from the official (its float64 error, 3.8e-14, is 30x the others' too),
# hence their own bound; in float64, gradients within 3.8e-14 and, after 3 steps, weights and u/v within 2.0e-15.
# At tests/support/tiny.py's widths (what runs here): float32 within 1.1e-6 (gains too), float64 gradients within
# 8.5e-16,
# weights and u/v within 2.3e-16. Planted: MPD's gradients not all-reduced, 1.7 (D, float32 and float64); summed
# instead of averaged, 1.0.
GRAD_F32, GRAD_F32_SCALAR, GRAD_F64, WEIGHT_F64 = 1e-5, 1e-4, 1e-9, 1e-9


def make_trainer(corpus: Path, out: Path, batch_size: int, dtype: torch.dtype, dist: DistInfo | None = None
                 ) -> Trainer:
    """A trainer on the tiny config (narrow MPD and MSD, adversarial from step 0), its models in `dtype` (the
    optimizers keep them)."""
    cfg = tiny_config(disc_start_step=0, batch_size=batch_size)
    train, valid = Corpus(folder=corpus, valid_count=2).resolve(cfg.seed)
    trainer = Trainer(cfg, scan_clips(train, cfg, cli=True).clips, scan_clips(valid, cfg, cli=True).clips,
                      TrainOptions(out=out, progress=False, checkpoint_interval=0, validation_interval=0), dist)
    for module in (trainer.generator, *trainer.discriminators.values()):
        module.to(dtype)
    return trainer


def first_batch(trainer: Trainer, epoch: int, dtype: torch.dtype) -> tuple:
    mel, audio, mel_target, index = next(iter(trainer.data.batches(epoch, 0)))
    return mel.to(dtype), audio.to(dtype), mel_target.to(dtype), index


def official_run(corpus: Path, root: Path, dtype: torch.dtype, steps: int, path: Path) -> list[list[int]]:
    """The official sequence on the global batch (one process, batch WORLD x PER_RANK): each step's gradients and
    the final state dicts go to `path`; returns each step's clip indices."""
    trainer = make_trainer(corpus, root / "one", WORLD * PER_RANK, dtype)
    ref = official_copies(trainer.config, trainer.generator, trainer.mpd, trainer.msd)
    ref_g, ref_mpd, ref_msd, optim_g, optim_d = ref
    grads: dict = {}
    capture_gradients(optim_d, named_parameters({"msd": ref_msd, "mpd": ref_mpd}, False), grads, "d")
    capture_gradients(optim_g, named_parameters({"generator": ref_g}, False), grads, "g")
    loss_mel = MelSpectrogram(**trainer.config.mel_kwargs(for_loss=True))
    per_step, indices = [], []
    for epoch in range(steps):
        mel, audio, mel_target, index = first_batch(trainer, epoch, dtype)
        ref_train_step(*ref, mel, audio.unsqueeze(1), mel_target, loss_mel)
        per_step.append(dict(grads))
        indices.append(sorted(int(i) for i in index))
    state = {name: module.state_dict() for name, module in zip(MODELS, (ref_g, ref_mpd, ref_msd))}
    torch.save({"steps": per_step, "state": state}, path)
    return indices


def worst(errors: dict[str, float]) -> list:
    key = max(errors, key=errors.get)
    return [key, errors[key], len(errors)]


def rank_phase(rank: int, root: Path, corpus: Path, name: str) -> dict:
    """Our step on this rank's shard, DDP-wrapped; how far its gradients and final state are from the official."""
    dtype, steps = PHASES[name]
    trainer = make_trainer(corpus, root / f"rank{rank}", PER_RANK, dtype, DistInfo(rank, WORLD, rank, in_group=True))
    state = trainer.state
    wrap_ddp(state, trainer.dist, trainer.device)  # as training.loop.fit does
    calls = dict.fromkeys(state.runs, 0)
    for key, wrapper in state.runs.items():
        wrapper.register_forward_pre_hook(lambda *_, key=key: calls.__setitem__(key, calls[key] + 1))
    grads: dict = {}
    d_params = named_parameters({"msd": trainer.msd, "mpd": trainer.mpd}, True)
    capture_gradients(state.optim_d, d_params, grads, "d")
    capture_gradients(state.optim_g, named_parameters({"generator": trainer.generator}, True), grads, "g")
    ref = torch.load(root / f"official_{name}.pt", mmap=True, weights_only=True)
    report: dict = {"steps": [], "wrapped": {k: type(w).__name__ for k, w in state.runs.items()}}
    for epoch in range(steps):
        batch = first_batch(trainer, epoch, dtype)
        ok = trainer.train_step(batch).ok
        entry = {"ok": ok, "indices": sorted(int(i) for i in batch[3])}
        for side in ("d", "g"):
            errors = relative_errors(grads[side], ref["steps"][epoch][side])
            entry[side] = worst(errors)  # and apart, the tensors of more than one element:
            entry[f"{side}_tensors"] = worst({k: e for k, e in errors.items() if grads[side][k].numel() > 1})
        # the D step's gradients, still held after the G step: had the G step reached D, they would have grown
        entry["d_grad_changed_by_g"] = max(float((p.grad - grads["d"][k]).abs().max()) for k, p in d_params.items())
        report["steps"].append(entry)
    report["calls"] = calls
    report["weights"], report["same_as_rank0"] = {}, {}
    for model, module in zip(MODELS, (trainer.generator, trainer.mpd, trainer.msd)):
        ours, theirs = ours_to_official(module.state_dict()), ref["state"][model]
        assert set(ours) == set(theirs), model
        errors = {k: float((ours[k] - theirs[k]).abs().max()) for k in theirs if ours[k].dtype == dtype}
        report["weights"][model] = worst(errors)
        if model == "msd":  # spectral norm's u and v (scale 1), compared with the weights
            report["vectors"] = [k for k in errors if k.startswith("discriminators.0.") and k.endswith(("_u", "_v"))]
        same = True
        for tensor in ours.values():  # rank 0's copy of every weight and buffer, to compare bit for bit
            theirs_ = tensor.clone()
            torch.distributed.broadcast(theirs_, src=0)
            same &= torch.equal(theirs_, tensor)
        report["same_as_rank0"][model] = same
    return report


def rank_main(rank: int, root: str, port: int, corpus: str) -> None:
    """One rank of the gloo job (fork_ranks: tests/support/torchrun.py): both phases, the report to rank<r>.json."""
    torch.set_num_threads(1)
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                                         world_size=WORLD, timeout=timedelta(seconds=300))
    try:
        report = {}
        for name in PHASES:
            report[name] = rank_phase(rank, Path(root), Path(corpus), name)
            gc.collect()
        (Path(root) / f"rank{rank}.json").write_text(json.dumps(report))
    finally:
        torch.distributed.destroy_process_group()
    end_worker_process(0)  # DDP's process group outlives destroy_process_group: skip the finalization it can abort


@pytest.fixture(scope="module")
def ddp(tmp_path_factory, tiny_corpus):
    """The official runs' clip indices per phase, and each rank's report."""
    root = tmp_path_factory.mktemp("ddp_step")
    with threads(1):
        official = {name: official_run(tiny_corpus, root, dtype, steps, root / f"official_{name}.pt")
                    for name, (dtype, steps) in PHASES.items()}
    gc.collect()
    fork_ranks(rank_main, str(root), free_port(), str(tiny_corpus), nprocs=WORLD)
    ranks = [json.loads((root / f"rank{r}.json").read_text()) for r in range(WORLD)]
    yield official, ranks
    shutil.rmtree(root, ignore_errors=True)  # the official runs' gradients and weights


def test_each_rank_steps_on_its_own_shard_of_the_global_batch(ddp):
    official, ranks = ddp
    for name, (_, steps) in PHASES.items():
        for step in range(steps):
            shards = [r[name]["steps"][step]["indices"] for r in ranks]
            assert all(len(s) == PER_RANK for s in shards) and not set(shards[0]) & set(shards[1]), (name, shards)
            assert sorted(shards[0] + shards[1]) == official[name][step]
            assert all(r[name]["steps"][step]["ok"] for r in ranks)


def test_ddp_wraps_every_model_and_the_generator_step_calls_the_discriminators_unwrapped_and_frozen(ddp):
    _, ranks = ddp
    for r in ranks:
        for name, (_, steps) in PHASES.items():
            assert r[name]["wrapped"] == dict.fromkeys(MODELS, "DistributedDataParallel")
            assert r[name]["calls"] == dict.fromkeys(MODELS, steps)  # the generator's forward and the D step only
            assert all(step["d_grad_changed_by_g"] == 0 for step in r[name]["steps"])  # G step: D frozen


def test_averaged_gradients_are_the_official_global_batch_gradients_float32(ddp):
    _, ranks = ddp
    for rank, r in enumerate(ranks):
        step = r["float32"]["steps"][0]
        assert step["d"][2] == D_TENSORS
        for side in ("d", "g"):
            assert step[side][1] < GRAD_F32_SCALAR, (rank, side, step[side])
            assert step[f"{side}_tensors"][1] < GRAD_F32, (rank, side, step[f"{side}_tensors"])


def test_gradients_weights_and_spectral_norm_vectors_match_over_steps_float64(ddp):
    _, ranks = ddp
    for rank, r in enumerate(ranks):
        for step in r["float64"]["steps"]:
            assert step["d"][2] == D_TENSORS
            for side in ("d", "g"):
                assert step[side][1] < GRAD_F64, (rank, side, step[side])
        for model in MODELS:
            key, error, _ = r["float64"]["weights"][model]
            assert error < WEIGHT_F64, (rank, model, key, error)
            assert r["float64"]["same_as_rank0"][model], (rank, model)
        assert len(r["float64"]["vectors"]) == 2 * 8  # MSD scale 1: u and v of its 8 convs
