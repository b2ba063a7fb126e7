"""The training loop: exact resume, logs, official export of a generator-only checkpoint, non-finite steps."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest
import soundfile as sf
import torch

from hifigan import Trainer, TrainOptions
from hifigan.checkpoints.format import config_of, read_checkpoint
from hifigan.cli import main
from hifigan.config import config_from_dict, load_config
from hifigan.data.clip_scan import scan_clips
from hifigan.data.corpus import Corpus
from hifigan.errors import HifiganError
from hifigan.messages.plural import audio_length
from hifigan.runtime.machine import cpu_computes
from tests.support.files import CORPUS, equal_states, left_in
from tests.support.gradients import capture_gradients, named_parameters
from tests.support.tiny import narrow_discriminators, tiny_config

QUIET = ["--no-progress", "--valid-count", "2"]
pytestmark = pytest.mark.usefixtures("single_thread")


def test_resume_mid_epoch_gives_identical_weights(tmp_path, tiny_corpus, tiny_config_json):
    """4 steps straight == 2 steps, resume, 2 more (6 training clips / batch 2: the resume is mid-epoch and the
    run crosses an epoch boundary, so the data order, schedulers, optimizers and D states all matter)."""
    run = ["train", "--no-progress", "--deterministic", "--log-interval", "1", "--validation-interval", "2"]
    common = [*run, "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), "--valid-count", "2",
              "--disc-start-step", "1"]
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert main([*common, "--out", str(straight), "--max-steps", "4", "--checkpoint-interval", "3"]) == 0
    assert main([*common, "--out", str(split), "--max-steps", "2"]) == 0
    assert main([*run, "--resume", str(split), "--max-steps", "4"]) == 0  # data and config from the checkpoint

    a = read_checkpoint(straight / "checkpoints" / "ckpt_00000004.pt")
    b = read_checkpoint(split / "checkpoints" / "ckpt_00000004.pt")
    assert (a["step"], a["epoch"], a["batch_in_epoch"]) == (4, 1, 1)
    for name in ("optim_g", "optim_d"):  # decayed once per epoch (not per step), from 2e-4
        assert a[name]["param_groups"][0]["lr"] == pytest.approx(2e-4 * 0.999, rel=1e-12), name
    for key in ("generator", "mpd", "msd", "optim_g", "optim_d", "sched_g", "sched_d"):
        assert equal_states(a[key], b[key]), key
    assert a["optim_d"]["state"], "the discriminators trained"
    # and the RNG states (the data loaders draw from their own generators, not torch's global one)
    assert torch.equal(a["rng"]["torch"], b["rng"]["torch"]) and repr(a["rng"]["numpy"]) == repr(b["rng"]["numpy"])

    # Logs: every loss term (each discriminator), lr, gradient norms, validation; TensorBoard events.
    records = [json.loads(line) for line in (straight / "log.jsonl").read_text().splitlines()]

    # Checkpoints: every --checkpoint-interval steps, at the end and at a new best validation (step 2, the first);
    # latest.pt is the newest, best.pt the lowest validation's.
    ckpts = sorted(p.name for p in (straight / "checkpoints").iterdir())
    assert ckpts == ["best.pt", "ckpt_00000002.pt", "ckpt_00000003.pt", "ckpt_00000004.pt", "latest.pt"]
    assert (straight / "checkpoints" / "latest.pt").samefile(straight / "checkpoints" / "ckpt_00000004.pt")
    validated = {r["step"]: r["val/mel_l1"] for r in records if "val/mel_l1" in r}
    assert list(validated) == [2, 4]
    best = min(validated, key=validated.get)
    assert (straight / "checkpoints" / "best.pt").samefile(straight / "checkpoints" / f"ckpt_{best:08d}.pt")
    scalars = {k for r in records for k in r}
    for name in ("g/mel_l1", "g/adv_mpd/4", "g/adv_msd/2", "g/fm_mpd", "d/mpd_real/0", "d/msd_fake/2",
                 "lr/g", "lr/d", "grad_norm/g", "grad_norm/d", "val/mel_l1", "speed/steps_per_s"):
        assert name in scalars, name
    assert [r["step"] for r in records if "g/total" in r] == [1, 2, 3, 4]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(straight / "logs"), size_guidance={"images": 0, "audio": 0}).Reload()
    tags = events.Tags()
    assert {"g/mel_l1", "d/mpd_real/0", "val/mel_l1", "grad_norm/d", "lr/g"} <= set(tags["scalars"])
    assert tags["images"] and any(t.startswith("generated/") for t in tags["audio"])
    assert any(t.startswith("reference/") for t in tags["audio"])
    # The split run logged the reference audio once, at its first validation (step 2), not again after the resume;
    # the generated audio at each validation (2 and 4).
    events = EventAccumulator(str(split / "logs"), size_guidance={"images": 0, "audio": 0}).Reload()
    logged = {tag: [e.step for e in events.Audio(tag)] for tag in events.Tags()["audio"]}
    assert {tag.split("/")[0]: steps for tag, steps in logged.items()} == {"reference": [2], "generated": [2, 4]}
    assert read_checkpoint(split / "checkpoints" / "ckpt_00000004.pt")["references"] == 2


def test_export_generator_only_checkpoint(tmp_path, tiny_checkpoint):
    assert main(["export-official", "--checkpoint", str(tiny_checkpoint), "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "g_00000000"]


def test_nonfinite_steps_are_skipped_then_fatal(tmp_path, tiny_corpus, capsys):
    cfg = tiny_config(disc_start_step=10**6)
    train, valid = Corpus(folder=tiny_corpus, valid_count=2).resolve(cfg.seed)
    clips = scan_clips(train, cfg, cli=True).clips, scan_clips(valid, cfg, cli=True).clips
    trainer = Trainer(cfg, *clips, TrainOptions(out=tmp_path, max_nonfinite=3, progress=False))
    trainer.open_log()
    batch = next(iter(trainer.loader))
    poisoned = (torch.full_like(batch[0], float("nan")), *batch[1:])
    before = {k: v.clone() for k, v in trainer.generator.state_dict().items()}

    assert not trainer.train_step(poisoned).ok
    assert equal_states(trainer.generator.state_dict(), before), "a skipped step changes nothing"
    trainer.state.disc_start_step = 0  # the discriminator step is skipped the same way
    d_before = {k: v.clone() for k, v in trainer.msd.named_parameters()}
    assert not trainer.train_step(poisoned).ok
    assert equal_states(dict(trainer.msd.named_parameters()), d_before)
    trainer.state.disc_start_step = 10**6
    assert trainer.train_step(batch).ok and trainer.nonfinite_run == 0  # a good step resets the count
    moments = copy.deepcopy(trainer.optim_g.state_dict())
    weights = {k: v.clone() for k, v in trainer.generator.state_dict().items()}
    for _ in range(2):
        trainer.train_step(poisoned)
    # Fused AdamW skipped on the device: weights, moments and its step count as they were.
    assert equal_states(trainer.optim_g.state_dict(), moments) and moments["state"][0]["step"] == 1
    assert equal_states(trainer.generator.state_dict(), weights)
    with pytest.raises(HifiganError) as diverged:  # nothing saved yet (as with --checkpoint-interval 0)
        trainer.train_step(poisoned)
    assert str(diverged.value) == ("training diverged: 3 non-finite steps in a row at step 6 (no checkpoint was "
                                   "written; try a lower learning rate, or fp32)")
    kept = trainer.save_checkpoint()
    assert kept == tmp_path / "checkpoints" / "ckpt_00000006.pt"
    with pytest.raises(HifiganError) as diverged:
        trainer.train_step(poisoned)
    assert str(diverged.value) == (f"training diverged: 4 non-finite steps in a row at step 7 (last checkpoint kept: "
                                   f"{kept}; try a lower learning rate, or fp32)")
    trainer.close()
    assert "non-finite loss" in capsys.readouterr().err
    events = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert sum(e.get("event") == "nonfinite" for e in events) == 6
    resumed = Trainer(cfg, *clips, TrainOptions(out=tmp_path, max_nonfinite=1, progress=False))
    resumed.restore(read_checkpoint(kept), kept)  # it writes none before it diverges: the resumed one is kept
    with pytest.raises(HifiganError) as diverged:
        resumed.train_step(poisoned)
    assert str(diverged.value) == (f"training diverged: 1 non-finite steps in a row at step 7 (last checkpoint kept: "
                                   f"{kept}; try a lower learning rate, or fp32)")


def test_a_training_job_from_python_resumes_in_its_folder(tmp_path, tiny_corpus, tiny_cfg, capsys, monkeypatch):
    """hifigan.train(TrainJob(...)): typed options, no command line; resuming needs only the run folder (config,
    data and folder come from its checkpoint); on_step sees every step; the resumed job reads no audio file in its
    up-front scan (the run folder's scan cache knows them all)."""
    from hifigan import TrainJob, train

    seen = []

    def on_step(trainer, batch, result):
        seen.append((trainer.step, result.ok, len(batch[3])))

    quiet = dict(progress=False, validation_interval=0, checkpoint_interval=0)
    monkeypatch.chdir(tiny_corpus.parent)  # a corpus typed relative, stored absolute: resumed from another folder
    first = train(TrainJob(TrainOptions(out=tmp_path / "run", **quiet),
                           Corpus(folder=Path(tiny_corpus.name), valid_count=2), config=tiny_cfg, max_steps=1,
                           on_step=on_step))
    folder = tmp_path / "run" / "checkpoints"
    assert (first.reason, first.step, first.epoch, first.checkpoint) == ("max_steps", 1, 0, folder / "ckpt_00000001.pt")
    monkeypatch.chdir(tmp_path)
    resumed = train(TrainJob(TrainOptions(**quiet), resume=tmp_path / "run", max_steps=2, on_step=on_step))
    assert (resumed.reason, resumed.step, resumed.checkpoint) == ("max_steps", 2, folder / "ckpt_00000002.pt")
    assert seen == [(1, True, tiny_cfg.batch_size), (2, True, tiny_cfg.batch_size)]
    assert read_checkpoint(resumed.checkpoint)["data"]["corpus"] == str(tiny_corpus.resolve())
    assert (first.files_read, resumed.files_read) == (8, 0)
    err = capsys.readouterr().err
    assert "scan: 8 files, 8 read, 0 unchanged" in err and "scan: 8 files, 0 read, 8 unchanged" in err
    lengths = {p.name: sf.info(p).frames / sf.info(p).samplerate for p in tiny_corpus.iterdir()}
    held = read_checkpoint(resumed.checkpoint)["data"]["held_out"]
    total, held_out = audio_length(sum(lengths.values())), audio_length(sum(lengths[Path(k).name] for k in held))
    assert err.count(f"; usable audio {total}, {held_out} of it held out\n") == 2, err
    assert "validation: 2 of 8 files (Corpus.valid_count)" in err  # a job built in Python names its fields


def test_a_quiet_python_job_shows_no_progress_bar(tmp_path, tiny_corpus, tiny_cfg, capsys):
    """quiet=True silences the scan's and the training's progress bars as `--quiet` does, with `progress` left at
    its default: the console says nothing of a run that has nothing to warn of."""
    from hifigan import TrainJob, train

    train(TrainJob(TrainOptions(out=tmp_path / "run", quiet=True, validation_interval=0),
                   Corpus(folder=tiny_corpus, valid_count=2), config=tiny_cfg, max_steps=0))
    assert capsys.readouterr().err == ""


def test_the_warm_up_ends_at_run_time_and_the_checkpoint_says_when(tmp_path, tiny_corpus):
    """start_discriminators() ends the generator-only warm-up without touching the config: the next step trains the
    discriminators, the checkpoint's config says the step they started at, and a run resumed from it trains them."""
    cfg = tiny_config(disc_start_step=10**6)
    train, valid = Corpus(folder=tiny_corpus, valid_count=2).resolve(cfg.seed)
    clips = scan_clips(train, cfg, cli=True).clips, scan_clips(valid, cfg, cli=True).clips
    options = TrainOptions(out=tmp_path, progress=False, checkpoint_interval=0, validation_interval=0)
    trainer = Trainer(cfg, *clips, options)
    batches = iter(trainer.loader)
    for _ in range(2):
        assert "d/total" not in trainer.train_step(next(batches)).terms
    assert trainer.state_payload()["config"]["disc_start_step"] == 10**6 and not trainer.optim_d.state
    trainer.start_discriminators()
    assert "d/total" in trainer.train_step(next(batches)).terms
    assert trainer.config is cfg and cfg.disc_start_step == 10**6
    saved = trainer.state_payload()
    assert saved["step"] == 3 and saved["config"]["disc_start_step"] == 2
    assert {float(s["step"]) for s in saved["optim_d"]["state"].values()} == {1.0}

    resumed = Trainer(config_of(saved, "memory"), *clips, options)
    resumed.restore(saved, tmp_path)
    assert resumed.state.disc_start_step == 2
    assert "d/total" in resumed.train_step(next(iter(resumed.loader))).terms
    assert {float(s["step"]) for s in resumed.optim_d.state.values()} == {2.0}


def _global_determinism() -> tuple:
    """What --deterministic switches, process-wide."""
    return (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
            torch.utils.deterministic.fill_uninitialized_memory, os.environ.get("CUBLAS_WORKSPACE_CONFIG"))


def test_deterministic_holds_for_the_run_alone(tmp_path, tiny_corpus):
    """TrainOptions.deterministic: building the Trainer changes nothing global; every step of fit() runs with
    torch's deterministic algorithms; after fit() everything is as before, also when the run fails."""
    cfg = tiny_config(disc_start_step=10**6)
    train, valid = Corpus(folder=tiny_corpus, valid_count=2).resolve(cfg.seed)
    before = _global_determinism()
    assert before[0] is False
    trainer = Trainer(cfg, scan_clips(train, cfg, cli=True).clips, scan_clips(valid, cfg, cli=True).clips,
                      TrainOptions(out=tmp_path, deterministic=True, progress=False, checkpoint_interval=0,
                                   validation_interval=0))
    assert _global_determinism() == before
    during = []
    assert trainer.fit(max_steps=2, on_step=lambda *_: during.append(_global_determinism())) == "max_steps"
    assert during == [(True, False, False, before[3] or ":4096:8")] * 2
    assert _global_determinism() == before

    def planted(trainer, batch, result):
        raise RuntimeError("planted")

    with pytest.raises(RuntimeError, match="planted"):
        trainer.fit(max_steps=3, on_step=planted)
    assert trainer.step == 3 and _global_determinism() == before
    trainer.close()


def test_cuda_graph_is_refused_off_cuda_in_one_line_before_anything_is_written(tmp_path, tiny_corpus,
                                                                               tiny_config_json, capsys):
    """A captured step needs CUDA (training.graphed); on the CPU the command says so and leaves no run folder."""
    args = ["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), *QUIET, "--max-steps", "1"]
    assert main([*args, "--cuda-graph", "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "hifigan train: error: --cuda-graph needs --device cuda (got cpu)"
    assert left_in(tmp_path / "a") == []  # a setting: refused before the scan (training.preflight)


def test_bf16_on_the_cpu_autocasts_where_the_cpu_has_native_bf16(tmp_path, tiny_corpus, tiny_config_json, capsys):
    """With AVX512-BF16/AMX, a V3 bf16 step on LJSpeech clips gives gradients along the fp32 step's from the same
    state (weights stay fp32); without them bf16 is refused in one line (oneDNN would emulate it). Narrow MPD and
    MSD (tests/support/tiny.py's widths): the same figures as the official ones (G 0.9985 / 0.9984, D 0.999992 /
    0.999985)."""
    if not cpu_computes("bf16"):
        args = ["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), *QUIET, "--max-steps", "1"]
        assert main([*args, "--precision", "bf16", "--out", str(tmp_path / "a")]) == 2
        assert "no native bf16 arithmetic (AVX512-BF16 or AMX), so oneDNN emulates it" in capsys.readouterr().err
        assert left_in(tmp_path / "a") == []
        return
    cfg = config_from_dict(narrow_discriminators({**load_config("v3").to_dict(), "batch_size": 1, "num_workers": 0,
                                                  "disc_start_step": 0}))
    train, valid = Corpus(folder=CORPUS, valid_count=2).resolve(cfg.seed)
    grads: dict = {}
    for precision in ("fp32", "bf16"):
        trainer = Trainer(cfg, scan_clips(train, cfg, cli=True).clips, scan_clips(valid, cfg, cli=True).clips,
                          TrainOptions(out=tmp_path / precision, progress=False, checkpoint_interval=0,
                                       validation_interval=0, precision=precision))
        sides = (("g", trainer.optim_g, {"generator": trainer.generator}),
                 ("d", trainer.optim_d, {"mpd": trainer.mpd, "msd": trainer.msd}))
        for side, optimizer, modules in sides:
            capture_gradients(optimizer, named_parameters(modules, False), grads, precision + side)
        assert trainer.train_step(next(iter(trainer.loader))).ok
        assert all(p.dtype == torch.float32 for p in trainer.generator.parameters())
        trainer.close()
    for side in "gd":
        bf16, fp32 = (torch.cat([g.flatten() for g in grads[p + side].values()]) for p in ("bf16", "fp32"))
        cosine = float(torch.nn.functional.cosine_similarity(bf16.double(), fp32.double(), dim=0))
        assert 0.99 < cosine < 1 - 1e-9, (side, cosine)  # measured 0.998 (G), 0.99998 (D) on a Xeon with AMX
        assert abs(float(bf16.norm() / fp32.norm()) - 1) < 0.02


def test_bad_resume_and_batch_size_are_clear_errors(tmp_path, tiny_corpus, tiny_config_json, capsys):
    base = ["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), *QUIET]
    (tmp_path / "empty").mkdir()
    assert main([*base, "--resume", str(tmp_path / "empty")]) == 2
    assert "no loadable training checkpoint" in capsys.readouterr().err
    official = tmp_path / "cp_hifigan"  # an official checkpoint folder, which the official train.py resumes from
    official.mkdir()
    for name in ("g_00000500", "do_00000500", "g_00001000", "do_00001000"):
        (official / name).write_bytes(b"")
    assert main([*base, "--resume", str(official)]) == 2
    err = capsys.readouterr().err
    assert f"--init-from {official / 'g_00001000'} starts from them" in err and len(err.strip().splitlines()) == 1
    assert main([*base, "--out", str(tmp_path / "b"), "--batch-size", "7"]) == 2
    assert "fewer than the batch size 7" in capsys.readouterr().err
