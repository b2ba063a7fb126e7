"""`hifigan train` with each part's arguments in the config: a run with non-default MPD, MSD, MRD and STFT-loss
arguments trains, saves those modules and resumes with them; a bad part is refused before anything is written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import torch

from hifigan import Trainer, TrainOptions
from hifigan.checkpoints.format import read_checkpoint
from hifigan.cli import main
from hifigan.data.clip_scan import scan_clips
from hifigan.data.corpus import Corpus
from hifigan.mel import MelSpectrogram
from tests.support.files import left_in, save_config_json
from tests.support.istft_generator import istft_config, registered
from tests.support.tiny import TINY_DISCRIMINATORS, tiny_config

pytestmark = pytest.mark.usefixtures("single_thread")

PARTS = dict(
    discriminators=["mpd", "msd", "mrd"], disc_start_step=0, loss_weights={"stft": 1.0},
    discriminator_args={"mpd": {"periods": [2, 3], **TINY_DISCRIMINATORS["mpd"]},
                        "msd": {"scales": 2, "pool_kernel_size": 2, "pool_stride": 2, "pool_padding": 1,
                                **TINY_DISCRIMINATORS["msd"]},
                        "mrd": {"resolutions": [[128, 32, 64]], "channels": 4}},
    loss_args={"stft": {"resolutions": [[128, 32, 64], [64, 16, 64]]}},
)


@pytest.fixture(autouse=True)
def _remove_runs(tmp_path):
    yield
    shutil.rmtree(tmp_path, ignore_errors=True)


def train_args(corpus, config, out) -> list[str]:
    return ["train", "--corpus", str(corpus), "--config", str(config), "--valid-count", "2", "--no-progress",
            "--log-interval", "1", "--validation-interval", "0", "--out", str(out)]


def test_a_run_with_part_arguments_trains_saves_and_resumes_with_them(tmp_path, tiny_corpus):
    config = save_config_json(tmp_path / "config.json", tiny_config(**PARTS))
    out = tmp_path / "run"
    assert main([*train_args(tiny_corpus, config, out), "--max-steps", "1"]) == 0
    ckpt = read_checkpoint(out / "checkpoints" / "latest.pt")
    assert ckpt["config"]["discriminator_args"] == PARTS["discriminator_args"]
    assert ckpt["config"]["loss_args"] == PARTS["loss_args"]
    for name, count in (("mpd", 2), ("msd", 2), ("mrd", 1)):
        assert {k.split(".")[1] for k in ckpt[name]} == {str(i) for i in range(count)}, name
    assert ckpt["mrd"]["discriminators.0.conv_post.bias"].shape == (1,)
    assert ckpt["mrd"]["discriminators.0.convs.0.parametrizations.weight.original1"].shape == (4, 1, 3, 9)
    assert ckpt["mpd"]["discriminators.1.convs.4.parametrizations.weight.original1"].shape == (24, 32, 5, 1)
    assert ckpt["msd"]["discriminators.1.convs.2.parametrizations.weight.original1"].shape == (16, 2, 41)  # groups 4
    logged = {k for line in (out / "log.jsonl").read_text().splitlines() for k in json.loads(line)}
    assert {"g/stft_sc", "d/mpd_real/1", "d/msd_real/1", "d/mrd_real/0"} <= logged
    assert "d/mpd_real/2" not in logged and "d/msd_real/2" not in logged
    # --resume builds the parts from the checkpoint's config, so its weights fit them
    assert main(["train", "--resume", str(out), "--max-steps", "2", "--no-progress"]) == 0
    assert read_checkpoint(out / "checkpoints" / "latest.pt")["step"] == 2
    with pytest.warns(UserWarning, match="no do_\\* file"):
        assert main(["export-official", "--checkpoint", str(out / "checkpoints" / "latest.pt"),
                     "--out", str(tmp_path / "export")]) == 0
    assert sorted(p.name for p in (tmp_path / "export").iterdir()) == ["config.json", "g_00000002"]


def test_export_official_refuses_the_do_file_for_non_official_mpd_arguments(tmp_path, tiny_corpus):
    config = save_config_json(tmp_path / "config.json", tiny_config(  # narrow MPD: its periods are the claim
        discriminator_args={"mpd": {"periods": [2, 3], **TINY_DISCRIMINATORS["mpd"]},
                            "msd": TINY_DISCRIMINATORS["msd"]}))
    out = tmp_path / "run"
    assert main([*train_args(tiny_corpus, config, out), "--max-steps", "1"]) == 0
    with pytest.warns(UserWarning, match=r"the checkpoint sets discriminator_args\['mpd'\]\['periods'\]"):
        assert main(["export-official", "--checkpoint", str(out / "checkpoints" / "latest.pt"),
                     "--out", str(tmp_path / "export")]) == 0
    assert sorted(p.name for p in (tmp_path / "export").iterdir()) == ["config.json", "g_00000001"]


def test_the_mel_loss_arguments_shape_both_the_target_and_the_generated_loss_mels(tmp_path, tiny_corpus):
    """loss_args mel (through config.mel_kwargs(for_loss=True)): the data's target mel and the step's loss mel of
    the same audio are the one front-end with fmax 2000 Hz, not the input mel's full band."""
    cfg = tiny_config(loss_args={"mel": {"fmax": 2000.0}})
    train, valid = Corpus(folder=tiny_corpus, valid_count=2).resolve(cfg.seed)
    trainer = Trainer(cfg, scan_clips(train, cfg, cli=True).clips, scan_clips(valid, cfg, cli=True).clips,
                      TrainOptions(out=tmp_path, progress=False, checkpoint_interval=0, validation_interval=0))
    _, audio, mel_target, _ = next(iter(trainer.loader))
    by_hand = MelSpectrogram(n_fft=64, num_mels=16, sampling_rate=8000, hop_size=16, win_size=64, fmin=0, fmax=2000.0)
    torch.testing.assert_close(mel_target, by_hand(audio), rtol=0, atol=1e-5)
    torch.testing.assert_close(trainer.step_options.loss_mel(audio), by_hand(audio), rtol=0, atol=1e-5)
    full_band = MelSpectrogram(n_fft=64, num_mels=16, sampling_rate=8000, hop_size=16, win_size=64, fmin=0, fmax=None)
    assert float((full_band(audio) - mel_target).abs().max()) > 0.5


@pytest.mark.parametrize(("overrides", "message"), [
    (dict(discriminators=["mpd", "mrx"]), "unknown discriminator 'mrx' (known: msd, mpd, mrd)"),
    (dict(loss_args={"stft": {"resolution": [[64, 16, 64]]}}),
     "loss_args['stft']: unknown argument 'resolution' (known: resolutions, power_floor)"),
    (dict(discriminator_args={"mpd": {"period": [2, 3]}}),
     "discriminator_args['mpd']: unknown argument 'period' (known: periods, channels)"),
    (dict(generator_args={"channels": 8}), "generator_args: unknown argument 'channels' (known: none)"),
    (dict(discriminator_args={"mpd": {"periods": []}}),
     "discriminator_args['mpd']: periods must be a non-empty list of integers >= 1, got []"),
])
def test_hifigan_train_refuses_a_bad_part_before_writing(tmp_path, tiny_corpus, capsys, overrides, message):
    """The one line names the config file; a part's name, argument or value is checked before the corpus is read
    (here a corpus folder that is not there: the config's problem is what is said)."""
    config = save_config_json(tmp_path / "config.json", tiny_config(**overrides))
    assert main([*train_args(tiny_corpus, config, tmp_path / "run"), "--max-steps", "1"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"hifigan train: error: {config}: {message}"]
    assert left_in(tmp_path / "run") == []
    assert main([*train_args(tmp_path / "no-corpus", config, tmp_path / "run"), "--max-steps", "1"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"hifigan train: error: {config}: {message}"]


def test_hifigan_train_process_exits_2_with_one_line_and_no_run_folder(tmp_path, tiny_corpus):
    config = save_config_json(tmp_path / "config.json", tiny_config(discriminator_args={"mpd": {"periods": []}}))
    proc = subprocess.run([sys.executable, "-m", "hifigan", *train_args(tiny_corpus, config, tmp_path / "run"),
                           "--max-steps", "1"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"hifigan train: error: {config}: discriminator_args['mpd']: periods must be a non-empty list of integers "
        ">= 1, got []"]
    assert left_in(tmp_path / "run") == []  # the value is met before the scan


def test_a_resumed_run_whose_part_is_not_registered_names_its_checkpoint(tmp_path, tiny_corpus, capsys):
    """A run of a generator a fork registers, resumed in a process that has not registered it: the one line names
    the checkpoint the config came from (no --config was given)."""
    config = save_config_json(tmp_path / "config.json", istft_config())
    out = tmp_path / "run"
    with registered():
        assert main([*train_args(tiny_corpus, config, out), "--max-steps", "1"]) == 0
    capsys.readouterr()  # the first run's lines
    assert main(["train", "--resume", str(out), "--max-steps", "2", "--no-progress"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"hifigan train: error: {out / 'checkpoints'}{os.sep}")
    assert line.endswith(".pt: unknown generator 'istft' (known: hifigan)")
