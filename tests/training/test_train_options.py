"""The optional parts wired into training: the MRD discriminator (`discriminators: [mpd, msd, mrd]`) and the
multi-resolution STFT loss (`loss_weights: {stft: w}`) each join the step by their config key alone, exactly as
the objectives say; the default config computes neither."""

from __future__ import annotations

import copy
import json
import shutil

import pytest
import torch
import torch.nn.functional as F

from hifigan import Trainer, TrainOptions
from hifigan.checkpoints.format import read_checkpoint
from hifigan.cli import main
from hifigan.data.clip_scan import scan_clips
from hifigan.data.corpus import Corpus
from hifigan.errors import ConfigError
from hifigan.mel import MelSpectrogram
from hifigan.models import MultiResolutionDiscriminator
from hifigan.models.stft import multi_resolution_stft_loss
from hifigan.training.registry import build_discriminators, build_generator_objective
from tests.support.files import left_in, save_config_json
from tests.support.gradients import capture_gradients, named_parameters
from tests.support.official_reference import (
    official_copies,
    ref_discriminator_loss,
    ref_feature_loss,
    ref_generator_loss,
)
from tests.support.tiny import tiny_config

pytestmark = pytest.mark.usefixtures("single_thread")

SEGMENT = 1040  # the STFT loss frames >= 1025 samples at Parallel WaveGAN's resolutions; a multiple of hop 16


@pytest.fixture(autouse=True)
def _remove_runs(tmp_path):
    yield
    shutil.rmtree(tmp_path, ignore_errors=True)


def _trainer(tmp_path, corpus, cfg) -> Trainer:
    train, valid = Corpus(folder=corpus, valid_count=2).resolve(cfg.seed)
    return Trainer(cfg, scan_clips(train, cfg, cli=True).clips, scan_clips(valid, cfg, cli=True).clips,
                   TrainOptions(out=tmp_path, progress=False, checkpoint_interval=0, validation_interval=0))


def test_mrd_and_stft_loss_give_the_hand_written_step_exactly(tmp_path, tiny_corpus):
    """float64, one step from the same state: the official sequence plus an MRD (third discriminator: LSGAN in both
    objectives, feature matching at the fm weight) plus w * (sc + mag), written out by hand, gives every generator
    and MRD gradient of ours to 1e-9."""
    weights = {"mel": 45.0, "fm": 2.0, "adv": 1.0, "stft": 2.5}
    cfg = tiny_config(disc_start_step=0, segment_size=SEGMENT, discriminators=["mpd", "msd", "mrd"],
                      loss_weights=weights)
    trainer = _trainer(tmp_path, tiny_corpus, cfg)
    assert list(trainer.discriminators) == ["msd", "mpd", "mrd"]
    assert isinstance(trainer.discriminators["mrd"], MultiResolutionDiscriminator)
    for module in (trainer.generator, *trainer.discriminators.values()):
        module.to(torch.float64)
    ref_g, ref_mpd, ref_msd, ref_optim_g, ref_optim_d = official_copies(cfg, trainer.generator, trainer.mpd,
                                                                        trainer.msd)
    ref_mrd = copy.deepcopy(trainer.discriminators["mrd"])
    ref_optim_mrd = torch.optim.AdamW(ref_mrd.parameters(), cfg.learning_rate, betas=(cfg.adam_b1, cfg.adam_b2))
    grads: dict = {}
    ours_mrd = trainer.discriminators["mrd"]
    capture_gradients(trainer.optim_g, named_parameters({"generator": trainer.generator}, True), grads, "ours")
    capture_gradients(trainer.optim_d, named_parameters({"mrd": ours_mrd}, False), grads, "ours_d")
    capture_gradients(ref_optim_g, named_parameters({"generator": ref_g}, False), grads, "ref")
    capture_gradients(ref_optim_mrd, named_parameters({"mrd": ref_mrd}, False), grads, "ref_d")

    mel, audio, mel_target, index = next(iter(trainer.loader))
    result = trainer.train_step((mel.double(), audio.double(), mel_target.double(), index))

    y, y_g_hat = audio.double().unsqueeze(1), ref_g(mel.double())
    discriminators = (ref_msd, ref_mpd, ref_mrd)
    ref_optim_d.zero_grad()
    ref_optim_mrd.zero_grad()
    sum(ref_discriminator_loss(*d(y, y_g_hat.detach())[:2]) for d in discriminators).backward()
    ref_optim_d.step()
    ref_optim_mrd.step()
    ref_optim_g.zero_grad()
    loss_mel = MelSpectrogram(**cfg.mel_kwargs(for_loss=True))
    loss = weights["mel"] * F.l1_loss(mel_target.double(), loss_mel(y_g_hat.squeeze(1)))
    for d in discriminators:
        _, scores, fmap_r, fmap_g = d(y, y_g_hat)
        loss = loss + ref_generator_loss(scores) + ref_feature_loss(fmap_r, fmap_g)  # official factor 2 = fm weight
    sc, mag = multi_resolution_stft_loss(y, y_g_hat)
    (loss + weights["stft"] * (sc + mag)).backward()
    ref_optim_g.step()

    assert result.ok
    for ours, ref in (("ours", "ref"), ("ours_d", "ref_d")):
        assert set(grads[ours]) == set(grads[ref]) and len(grads[ref]) > 0
        for key, want in grads[ref].items():
            error = float((grads[ours][key] - want).norm() / want.norm().clamp_min(1e-300))
            assert error < 1e-9, (key, error)
    assert len(grads["ref_d"]) == len(list(ref_mrd.parameters()))
    assert result.terms["g/stft_sc"] == pytest.approx(float(sc.detach()), rel=1e-6)  # logged as float32
    assert result.terms["g/stft_mag"] == pytest.approx(float(mag.detach()), rel=1e-6)
    assert {"d/mrd", "d/mrd_real/2", "g/adv_mrd", "g/fm_mrd"} <= set(result.terms)


def test_the_default_recipe_computes_neither(tmp_path, tiny_corpus):
    trainer = _trainer(tmp_path, tiny_corpus, tiny_config(disc_start_step=0))
    assert list(trainer.discriminators) == ["msd", "mpd"]
    result = trainer.train_step(next(iter(trainer.loader)))
    assert result.ok and not any("stft" in k or "mrd" in k for k in result.terms)


def test_hifigan_train_with_mrd_and_stft_loss_saves_the_mrd_and_exports_the_generator(tmp_path, tiny_corpus):
    """The README's recipe through the CLI: the MRD is saved under its name and takes its place in optim_d after
    MSD and MPD; the official do_* format has no place for it, so export-official writes g_* only."""
    config = save_config_json(tmp_path / "config.json", tiny_config(
        disc_start_step=0, segment_size=SEGMENT, discriminators=["mpd", "msd", "mrd"], loss_weights={"stft": 1.0}))
    out = tmp_path / "run"
    assert main(["train", "--corpus", str(tiny_corpus), "--config", str(config), "--valid-count", "2",
                 "--no-progress", "--log-interval", "1", "--validation-interval", "0", "--out", str(out),
                 "--max-steps", "1"]) == 0
    ckpt = read_checkpoint(out / "checkpoints" / "latest.pt")
    fresh = MultiResolutionDiscriminator()
    assert set(ckpt["mrd"]) == set(fresh.state_dict())
    n_mrd = len(list(fresh.parameters()))
    assert len(ckpt["optim_d"]["state"]) == len(ckpt["optim_d"]["param_groups"][0]["params"])
    last = [ckpt["optim_d"]["state"][i]["exp_avg"].shape for i in range(len(ckpt["optim_d"]["state"]))][-n_mrd:]
    assert last == [p.shape for p in fresh.parameters()]
    logged = {k for line in (out / "log.jsonl").read_text().splitlines() for k in json.loads(line)}
    assert {"g/stft_sc", "g/stft_mag", "d/mrd", "g/adv_mrd"} <= logged
    with pytest.warns(UserWarning, match="no do_\\* file"):
        assert main(["export-official", "--checkpoint", str(out / "checkpoints" / "latest.pt"),
                     "--out", str(tmp_path / "export")]) == 0


def test_a_segment_too_short_for_the_spectra_is_an_error_when_the_parts_are_built():
    with pytest.raises(ConfigError, match="segment_size 512 is too short for the MRD discriminator"):
        build_discriminators(tiny_config(discriminators=["mrd"]))
    with pytest.raises(ConfigError, match=r"segment_size 1024 is too short for the STFT loss .needs >= 1025"):
        build_generator_objective(tiny_config(segment_size=1024, loss_weights={"stft": 1.0}))
    assert "stft" not in build_generator_objective(tiny_config(segment_size=1024, loss_weights={"stft": 0.0})).terms


def test_a_segment_too_short_for_the_mel_front_end_is_one_line(tmp_path, tiny_corpus, capsys):
    """The front-end reflect-pads a window by (n_fft - hop) / 2 = 24 samples of the tiny config: a 16-sample segment
    was a traceback from a DataLoader worker; now the run stops before its scan, writing nothing."""
    out = tmp_path / "run"
    code = main(["train", "--corpus", str(tiny_corpus), "--config", str(save_config_json(tmp_path / "c.json",
                 tiny_config())), "--segment-size", "16", "--batch-size", "1", "--out", str(out), "--max-steps", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "segment_size 16 is too short for the mel front-end, which pads a window by 24" in err
    assert len(err.strip().splitlines()) == 1 and left_in(out) == []
