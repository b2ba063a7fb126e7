"""What README says `hifigan train` does, each checked through the command line: runs repeat for any
--num-workers, --epochs and --max-minutes stop a run, --init-discriminators and the do_* file beside an official
g_*, fine-tuning on --input-mels, and official-size discriminators through a real training step and export-official."""

from __future__ import annotations

import itertools
import json
import math
import shutil

import numpy as np
import pytest
import torch

from hifigan.checkpoints.format import read_checkpoint
from hifigan.checkpoints.official import official_to_ours
from hifigan.cli import main
from hifigan.config import load_config
from hifigan.data.corpus import Corpus
from hifigan.models.generators import build_generator
from hifigan.training.registry import build_discriminators
from tests.support.files import SCAN_ONLY, equal_states, left_in
from tests.support.marks import LARGE_MEMORY
from tests.support.official_files import official_discriminator_file, official_tiny_files
from tests.support.official_reference import RefGenerator, RefMPD, RefMSD, reference_mel

QUIET = ["--no-progress", "--valid-count", "2", "--log-interval", "1"]
G_ONLY = ["--disc-start-step", "1000000"]  # generator steps only: fast, and the data are what is compared
pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(autouse=True)
def _remove_runs(tmp_path):
    """Training runs with the official discriminators hold ~1 GB checkpoints: drop them after use."""
    yield
    shutil.rmtree(tmp_path, ignore_errors=True)


def _latest(run) -> dict:
    return read_checkpoint(run / "checkpoints" / "latest.pt")


def test_runs_repeat_for_any_num_workers_and_epochs_stop_them(tmp_path, tiny_corpus, tiny_config_json, capsys):
    """Two epochs (6 clips, batch 2: 3 steps each) with the data loaded in the main process and in 2 worker
    processes: the same windows in the same order, so the same weights bit for bit."""
    data = ["--corpus", str(tiny_corpus), "--config", str(tiny_config_json)]
    config = load_config(tiny_config_json)
    sizes = {"g": sum(p.numel() for p in build_generator(config).parameters()),
             "d": sum(p.numel() for d in build_discriminators(config).values() for p in d.parameters())}
    for workers in (0, 2):
        assert main(["train", *data, *QUIET, *G_ONLY, "--deterministic", "--validation-interval", "0",
                     "--epochs", "2", "--max-steps", "100", "--num-workers", str(workers),
                     "--out", str(tmp_path / f"w{workers}")]) == 0
        err = capsys.readouterr().err
        assert "stopped (epochs) at step 6, epoch 2" in err
        assert (f"model: generator {sizes['g'] / 1e3:.1f} k parameters, discriminators {sizes['d'] / 1e3:.1f} k "
                f"(msd, mpd); config {tiny_config_json}\n") in err
        assert (f"run: {tmp_path / f'w{workers}'} on cpu, fp32, 1 thread; stops at step 6 (--epochs 2, before "
                "--max-steps 100 at step 100)\n") in err
    a, b = _latest(tmp_path / "w0"), _latest(tmp_path / "w2")
    assert (a["step"], a["epoch"]) == (b["step"], b["epoch"]) == (6, 2)
    for key in ("generator", "optim_g", "sched_g"):
        assert equal_states(a[key], b[key]), key


def test_max_minutes_stops_a_run(tmp_path, tiny_corpus, tiny_config_json, capsys):
    """A budget shorter than one step: the run stops after its first step (it would overrun otherwise)."""
    assert main(["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), *QUIET, *G_ONLY,
                 "--validation-interval", "0", "--max-minutes", "0.0001", "--max-steps", "5", "--epochs", "5",
                 "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert "stopped (time) at step 1, epoch 0" in err
    assert ("stops at step 5 (--max-steps 5, before --epochs 5 at step 15) or after 0.0001 minutes (--max-minutes "
            "0.0001), whichever comes first\n") in err


def test_the_progress_bar_counts_to_where_the_run_stops(tmp_path, tiny_corpus, tiny_cfg, capsys):
    """--epochs gives the bar its total before the first step (6 training clips, batch 2: 3 steps an epoch); a
    time budget that ends sooner brings it down, once a step has run, to the step the budget allows (the first)."""
    from hifigan import TrainJob, TrainOptions, train

    options = TrainOptions(out=tmp_path / "run", progress=True, validation_interval=0, checkpoint_interval=0)
    result = train(TrainJob(options, Corpus(folder=tiny_corpus, valid_count=2), config=tiny_cfg, epochs=1,
                            max_minutes=0.0001, disc_start_step=1000000))
    assert (result.reason, result.step) == ("time", 1)
    drawn = capsys.readouterr().err.split("\r")
    assert any(" 0/3 [" in line for line in drawn) and any(" 1/1 [" in line for line in drawn), drawn
    assert _latest(tmp_path / "run")["step"] == 1


def _assert_started_from(start: dict, do: dict, lr: float) -> None:
    """A run's first checkpoint holds a do_* dict's discriminators and both optimizers' moments, exactly, and the
    config's learning rate (not the file's decayed one)."""
    assert equal_states(start["mpd"], official_to_ours(do["mpd"]))
    assert equal_states(start["msd"], official_to_ours(do["msd"]))
    for name in ("optim_g", "optim_d"):
        assert equal_states(start[name]["state"], do[name]["state"]), name
        assert {(g["lr"], g["initial_lr"]) for g in start[name]["param_groups"]} == {(lr, lr)}, name


def test_init_discriminators_from_elsewhere_wins_over_the_do_file_beside(tmp_path, tiny_corpus):
    """--init-discriminators loads a do_* file that is not beside the g_* (weights and both optimizers' moments), in
    place of the one beside it; without it, --init-from loads the do_* beside the g_*, and three real GAN steps
    (resumed; batch 3 of 6 clips: into epoch 1) go on from the official moments with our fused AdamW. Official files
    at narrow widths (official-size discriminators through training and export: the large-memory test below)."""
    (tmp_path / "official").mkdir()
    cfg, g_path, config_json = official_tiny_files(tmp_path / "official")
    g_state = torch.load(g_path, weights_only=True)["generator"]
    beside, elsewhere = (official_discriminator_file(g_state, cfg, 10, 1, (0.8, 0.99), seed=seed)
                         for seed in (2, 3))
    assert not equal_states(beside["mpd"], elsewhere["mpd"])
    for do in (beside, elsewhere):  # as the official files are after 40 epochs: decayed learning rates
        for group in (*do["optim_g"]["param_groups"], *do["optim_d"]["param_groups"]):
            group["lr"], group["initial_lr"] = 2e-4 * 0.999**40, 2e-4
    torch.save(beside, g_path.parent / "do_00000010")
    (tmp_path / "d").mkdir()
    torch.save(elsewhere, tmp_path / "d" / "discriminators.pt")
    data = ["--init-from", str(g_path), "--config", str(config_json), "--corpus", str(tiny_corpus), *QUIET,
            "--validation-interval", "0", "--disc-start-step", "0", "--batch-size", "3", "--max-steps", "0"]
    given = ["--init-discriminators", str(tmp_path / "d" / "discriminators.pt")]
    for name, extra, want in (("given", given, elsewhere), ("beside", [], beside)):
        assert main(["train", *data, *extra, "--out", str(tmp_path / name)]) == 0
        _assert_started_from(_latest(tmp_path / name), want, cfg.learning_rate)

    # The official AdamWs ran the for-loop update; ours keep the fused one they were built with.
    assert beside["optim_d"]["param_groups"][0]["fused"] is None
    assert main(["train", "--resume", str(tmp_path / "beside"), "--max-steps", "3", "--no-progress"]) == 0
    trained = _latest(tmp_path / "beside")
    assert (trained["step"], trained["epoch"]) == (3, 1)
    for name in ("optim_g", "optim_d"):  # one epoch ended: one decay, counted from the config's rate
        assert trained[name]["param_groups"][0]["lr"] == pytest.approx(cfg.learning_rate * cfg.lr_decay, rel=1e-12)
    for name in ("optim_g", "optim_d"):
        steps = {float(s["step"]) for s in beside[name]["state"].values()}
        assert steps == {1.0} and {float(s["step"]) for s in trained[name]["state"].values()} == {4.0}, name
        assert all(group["fused"] is True for group in trained[name]["param_groups"]), name


def test_init_from_one_of_our_checkpoints_takes_its_moments_at_the_configs_rate(tmp_path, tiny_corpus,
                                                                               tiny_config_json):
    """Our checkpoint holds every configured discriminator: --init-from takes them and both optimizers' moments (as
    from an official do_*), and the step count and the decayed learning rate start afresh."""
    data = ["--config", str(tiny_config_json), "--corpus", str(tiny_corpus), *QUIET, "--validation-interval", "0",
            "--disc-start-step", "0"]
    assert main(["train", *data, "--max-steps", "4", "--out", str(tmp_path / "first")]) == 0
    source = _latest(tmp_path / "first")
    assert source["epoch"] == 1 and source["optim_g"]["param_groups"][0]["lr"] < 2e-4  # decayed once
    assert main(["train", *data, "--init-from", str(tmp_path / "first" / "checkpoints" / "latest.pt"),
                 "--max-steps", "0", "--out", str(tmp_path / "second")]) == 0
    started = _latest(tmp_path / "second")
    assert started["step"] == 0 and equal_states(started["mpd"], source["mpd"])
    for name in ("optim_g", "optim_d"):
        assert equal_states(started[name]["state"], source[name]["state"]), name
        assert started[name]["param_groups"][0]["lr"] == 2e-4, name


def _reversed_moments(optim: dict) -> None:
    states = optim["state"]
    optim["state"] = dict(enumerate(reversed([states[i] for i in sorted(states)])))


def _second_group(optim: dict) -> None:
    optim["param_groups"].append({**optim["param_groups"][0], "params": []})


@pytest.mark.parametrize(("change", "said"), [
    (_reversed_moments, "optim_d: state of parameter 0 has shape"),
    (_second_group, "optim_d does not fit: loaded state dict has a different number of parameter groups"),
])
def test_moments_that_do_not_fit_the_parameters_are_refused(tmp_path, tiny_corpus, capsys, change, said):
    """A do_* file whose discriminator moments follow MPD then MSD (the official order is MSD then MPD) cannot be
    matched to the parameters by position, nor one with a parameter group the optimizer lacks: one line naming the
    file and the first thing that does not fit; the run folder holds only the scan's cache, for the rerun."""
    (tmp_path / "official").mkdir()
    cfg, g_path, config_json = official_tiny_files(tmp_path / "official")
    do = official_discriminator_file(torch.load(g_path, weights_only=True)["generator"], cfg, 10, 1)
    change(do["optim_d"])
    torch.save(do, g_path.parent / "do_00000010")
    code = main(["train", "--init-from", str(g_path), "--config", str(config_json), "--corpus", str(tiny_corpus),
                 *QUIET, "--max-steps", "0", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and said in err and str(g_path.parent / "do_00000010") in err and len(err.splitlines()) == 1
    assert left_in(tmp_path / "run") == SCAN_ONLY


@LARGE_MEMORY
def test_official_size_discriminators_train_then_export_back_exactly(tmp_path, tiny_corpus, official_tiny80):
    """The official MPD and MSD at their real sizes (~1 GB checkpoints), from an official g_*: after one real GAN
    step (batch 1 of the one training clip that 7 held out of 8 leave: an epoch ends, so the epoch is 1, not the 0 a
    dropped count writes), export-official writes g_/do_ files that hold our trained tensors exactly (the moments in
    the official optimizer's order), that the independent official-style models load strictly, and that compute,
    bit for bit, what our trained checkpoint computes. One step: the claim is about sizes and layout, and each
    official-size step costs seconds of CPU."""
    g_path, config_json = official_tiny80
    run = tmp_path / "run"
    assert main(["train", "--init-from", str(g_path), "--config", str(config_json), "--corpus", str(tiny_corpus),
                 *QUIET, "--valid-count", "7", "--validation-interval", "0", "--disc-start-step", "0",
                 "--batch-size", "1", "--segment-size", "256", "--max-steps", "1", "--out", str(run)]) == 0
    from hifigan.checkpoints.contents import load_generator
    from hifigan.models import MultiPeriodDiscriminator, MultiScaleDiscriminator

    assert main(["export-official", "--checkpoint", str(run / "checkpoints" / "latest.pt"),
                 "--out", str(tmp_path / "export")]) == 0
    trained = _latest(run)
    assert trained["step"] == 1 and {float(s["step"]) for s in trained["optim_d"]["state"].values()} == {1.0}
    assert not equal_states(trained["generator"], official_to_ours(torch.load(g_path, weights_only=True)["generator"]))
    ours_mpd, ours_msd = MultiPeriodDiscriminator(), MultiScaleDiscriminator()
    ours_mpd.load_state_dict(trained["mpd"])
    ours_msd.load_state_dict(trained["msd"])
    g_file = torch.load(tmp_path / "export" / "g_00000001", weights_only=True)
    do_file = torch.load(tmp_path / "export" / "do_00000001", weights_only=True, mmap=True)
    # The official index of the last update: the official train.py resumes at steps + 1 = our 1 update.
    assert (do_file["steps"] + 1, do_file["epoch"]) == (trained["step"], trained["epoch"]) == (1, 1)
    assert equal_states(official_to_ours(g_file["generator"]), trained["generator"])
    for name in ("mpd", "msd"):
        assert equal_states(official_to_ours(do_file[name]), trained[name]), name
    for name in ("optim_g", "optim_d"):
        assert equal_states(do_file[name]["state"], trained[name]["state"]), name
    del trained

    ref_g, ref_mpd, ref_msd = RefGenerator(load_config(str(config_json))), RefMPD(), RefMSD()
    ref_g.load_state_dict(g_file["generator"])  # strict: every official key, nothing else
    ref_mpd.load_state_dict(do_file["mpd"])
    ref_msd.load_state_dict(do_file["msd"])
    # The official optimizer over chain(msd, mpd) takes the exported moments position by position.
    ref_params = list(itertools.chain(ref_msd.parameters(), ref_mpd.parameters()))
    moments = do_file["optim_d"]["state"]
    assert len(moments) == len(ref_params)
    assert all(moments[i]["exp_avg"].shape == p.shape for i, p in enumerate(ref_params))
    del do_file, moments
    ours_g = load_generator(run / "checkpoints" / "latest.pt")[0]
    torch.manual_seed(2)
    mel, y, y_hat = torch.randn(2, 80, 9), torch.randn(2, 1, 1000), torch.randn(2, 1, 1000)
    with torch.no_grad():
        for module in (ref_g, ref_mpd, ref_msd, ours_g, ours_mpd, ours_msd):
            module.eval()
        assert torch.equal(ref_g(mel), ours_g(mel))
        for ref, ours in ((ref_mpd, ours_mpd), (ref_msd, ours_msd)):
            for got, want in zip(itertools.chain(*ours(y, y_hat)), itertools.chain(*ref(y, y_hat))):
                got, want = (got, want) if isinstance(got, list) else ([got], [want])
                assert all(torch.equal(a, b) for a, b in zip(got, want))


def test_fine_tuning_on_input_mels_trains_on_those_mels(tmp_path, tiny_corpus, tiny_config_json):
    """`hifigan mel CORPUS -o MELS` writes a mel per clip, MELS/<stem>.npy; `train --input-mels MELS` trains and
    validates on them with the audio as recorded (no peak normalisation). The logged validation error is recomputed
    here from the files, with the independent reference mel; with mels of the normalised audio instead it would
    differ."""
    cfg = load_config(str(tiny_config_json))
    mels = tmp_path / "mels"
    assert main(["mel", str(tiny_corpus), "-o", str(mels), "--config", str(tiny_config_json), "-q"]) == 0
    run = tmp_path / "run"
    assert main(["train", "--corpus", str(tiny_corpus), "--config", str(tiny_config_json), "--input-mels", str(mels),
                 *QUIET, *G_ONLY, "--max-steps", "1", "--validation-interval", "1", "--out", str(run)]) == 0
    logged = [r["val/mel_l1"] for r in map(json.loads, (run / "log.jsonl").read_text().splitlines())
              if "val/mel_l1" in r]
    assert len(logged) == 1
    assert _latest(run)["data"]["input_mels"] == str(mels.resolve())

    from hifigan.audio import load_audio
    from hifigan.checkpoints.contents import load_generator

    generator = load_generator(run / "checkpoints" / "latest.pt")[0].eval()
    _, valid = Corpus(folder=tiny_corpus, valid_count=2).resolve(cfg.seed)
    loss_mel = dict(cfg.mel_kwargs(for_loss=True))

    def error(mel: np.ndarray, audio: np.ndarray) -> float:
        with torch.no_grad():
            y_hat = generator(torch.from_numpy(mel)[None])[0]
        y = torch.from_numpy(audio)[None]  # the whole recording, as the official validation
        return float((reference_mel(y_hat, **loss_mel) - reference_mel(y, **loss_mel)).abs().mean())

    recorded = [load_audio(path) for path in valid]
    expected = np.mean([error(np.load(mels / f"{p.stem}.npy"), a) for p, a in zip(valid, recorded)])
    assert logged[0] == pytest.approx(expected, rel=1e-5)
    from hifigan.data.dataset import normalize_peak

    normalised = np.mean([error(reference_mel(torch.from_numpy(normalize_peak(a, 0.95))[None], **dict(cfg.mel_kwargs()))
                                [0].numpy(), a) for a in recorded])
    assert not math.isclose(normalised, expected, rel_tol=1e-3)
