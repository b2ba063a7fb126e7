"""Named parts of training: a discriminator added by one registration and one config key trains, checkpoints and
resumes exactly; loss weights by name change the generator's objective exactly as Eq. 6 with those weights."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
import torch.nn.functional as F

from hifigan import Trainer, TrainOptions
from hifigan.checkpoints.format import read_checkpoint
from hifigan.cli import main
from hifigan.config import config_from_dict
from hifigan.data.clip_scan import scan_clips
from hifigan.data.corpus import Corpus
from hifigan.errors import ConfigError
from hifigan.mel import MelSpectrogram
from hifigan.training.registry import (
    DISCRIMINATORS,
    build_discriminators,
    build_generator_objective,
    register_discriminator,
)
from tests.support.files import equal_states, save_config_json
from tests.support.gradients import capture_gradients, named_parameters
from tests.support.official_reference import (
    official_copies,
    ref_discriminator_loss,
    ref_feature_loss,
    ref_generator_loss,
)
from tests.support.tiny import TinyDiscriminator, tiny_config

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture
def tiny_registered():
    """The one registration a new discriminator needs (removed again after the test)."""
    register_discriminator("tiny", lambda config: TinyDiscriminator())
    yield
    del DISCRIMINATORS["tiny"]


@pytest.fixture(autouse=True)
def _remove_runs(tmp_path):
    yield
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_a_registered_discriminator_trains_checkpoints_and_resumes_exactly(tmp_path, tiny_corpus, tiny_registered):
    """discriminators: [mpd, msd, tiny] in the config is all it takes: the tiny one is in the discriminator
    optimizer after MSD and MPD (their official layout kept), takes part in both losses, is saved under its name,
    and 2 steps straight == 1 step, resume, 1 more (mid-epoch), bit for bit."""
    config = save_config_json(tmp_path / "config.json",
                              tiny_config(discriminators=["mpd", "msd", "tiny"], disc_start_step=0))
    common = ["--corpus", str(tiny_corpus), "--config", str(config), "--valid-count", "2", "--no-progress",
              "--deterministic", "--log-interval", "1", "--validation-interval", "0"]
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert main(["train", *common, "--out", str(straight), "--max-steps", "2"]) == 0
    assert main(["train", *common, "--out", str(split), "--max-steps", "1"]) == 0
    assert main(["train", "--resume", str(split), "--max-steps", "2", "--no-progress", "--deterministic"]) == 0
    a = read_checkpoint(straight / "checkpoints" / "latest.pt")
    b = read_checkpoint(split / "checkpoints" / "latest.pt")
    assert a["step"] == b["step"] == 2 and a["config"]["discriminators"] == ["mpd", "msd", "tiny"]
    for key in ("generator", "mpd", "msd", "tiny", "optim_g", "optim_d", "sched_g", "sched_d"):
        assert equal_states(a[key], b[key]), key
    # optim_d: MSD's and MPD's parameters first (official do_* positions), the tiny one's 4 tensors last
    n_official = sum(len(list(module.parameters())) for module in build_discriminators(tiny_config()).values())
    assert len(a["optim_d"]["state"]) == n_official + 4
    tiny_moments = [a["optim_d"]["state"][n_official + i] for i in range(4)]
    shapes = [tuple(p.shape) for p in TinyDiscriminator().parameters()]
    assert [tuple(m["exp_avg"].shape) for m in tiny_moments] == shapes
    assert all(float(m["step"]) == 2 and m["exp_avg"].abs().sum() > 0 for m in tiny_moments), "it trained"
    records = [json.loads(line) for line in (straight / "log.jsonl").read_text().splitlines()]
    logged = {k for r in records for k in r}
    assert {"d/tiny", "d/tiny_real/0", "d/tiny_fake/0", "g/adv_tiny", "g/adv_tiny/0", "g/fm_tiny"} <= logged
    # The official do_* format has no place for it: export writes the generator only.
    with pytest.warns(UserWarning, match="no do_\\* file"):
        assert main(["export-official", "--checkpoint", str(straight / "checkpoints" / "latest.pt"),
                     "--out", str(tmp_path / "export")]) == 0
    assert sorted(p.name for p in (tmp_path / "export").iterdir()) == ["config.json", "g_00000002"]


def test_registered_discriminator_checkpoint_must_hold_it(tmp_path, tiny_corpus, tiny_registered):
    """A checkpoint trained with a discriminator that lacks its weights is no training checkpoint."""
    cfg = tiny_config(discriminators=["mpd", "msd", "tiny"])
    train, valid = Corpus(folder=tiny_corpus, valid_count=2).resolve(cfg.seed)
    trainer = Trainer(cfg, scan_clips(train, cfg, cli=True).clips, scan_clips(valid, cfg, cli=True).clips,
                      TrainOptions(out=tmp_path, progress=False))
    assert list(trainer.discriminators) == ["msd", "mpd", "tiny"]
    payload = trainer.state_payload()
    del payload["tiny"]
    from hifigan.errors import CheckpointError

    with pytest.raises(CheckpointError, match="missing tiny"):
        trainer.restore(payload, tmp_path / "x.pt")


def test_unknown_names_are_errors_that_name_them_when_the_parts_are_built():
    """hifigan.config knows no registry: the names are checked where the parts are built
    (tests/models/test_part_args.py)."""
    with pytest.raises(ConfigError, match="unknown discriminator 'mrx'"):
        build_discriminators(tiny_config(discriminators=["mpd", "mrx"]))
    with pytest.raises(ConfigError, match="unknown loss term 'stf'"):
        build_generator_objective(tiny_config(loss_weights={"stf": 1.0}))
    with pytest.raises(ConfigError, match=r"loss_weights\['fm'\] must be a number >= 0, got -1"):
        tiny_config(loss_weights={"fm": -1})


def test_older_configs_with_lambda_keys_load_as_loss_weights():
    """Our configs and checkpoints before loss_weights carried lambda_fm / lambda_mel; a weight left out keeps
    the paper's value."""
    base = {k: v for k, v in tiny_config().to_dict().items() if k not in ("loss_weights", "discriminators")}
    old = config_from_dict({**base, "lambda_fm": 2.0, "lambda_mel": 30.0})
    assert old.loss_weights == {"mel": 30.0, "fm": 2.0, "adv": 1.0} and old.discriminators == ["mpd", "msd"]
    assert config_from_dict({**base, "loss_weights": {"adv": 0.5}}).loss_weights == {"mel": 45.0, "fm": 2.0,
                                                                                      "adv": 0.5}
    with pytest.raises(ConfigError, match=r"lambda_mel \(30.0\) contradicts loss_weights"):
        config_from_dict({**base, "lambda_mel": 30.0, "loss_weights": {"mel": 45.0}})


def weighted_official_step(ref, batch, loss_mel, weights):
    """The official sequence (tests/support/official_reference.py) with Eq. 6's weights in place of 1, 2 and 45:
    L_G = w_adv * L_adv + w_fm * L_FM + w_mel * L_mel, where L_FM is the sum of layer means (the official
    feature_loss is 2 L_FM)."""
    generator, mpd, msd, optim_g, optim_d = ref
    mel, audio, mel_target, _ = batch
    y = audio.unsqueeze(1)
    y_g_hat = generator(mel)
    optim_d.zero_grad()
    loss_d = sum(ref_discriminator_loss(*d(y, y_g_hat.detach())[:2]) for d in (msd, mpd))
    loss_d.backward()
    optim_d.step()
    optim_g.zero_grad()
    loss = weights["mel"] * F.l1_loss(mel_target, loss_mel(y_g_hat.squeeze(1)))
    for d in (msd, mpd):
        _, scores, fmap_r, fmap_g = d(y, y_g_hat)
        loss = loss + weights["adv"] * ref_generator_loss(scores) + weights["fm"] * ref_feature_loss(fmap_r, fmap_g) / 2
    loss.backward()
    optim_g.step()


def test_loss_weights_by_name_change_the_generator_gradient_exactly(tmp_path, tiny_corpus):
    """float64, one step from the same state: every generator gradient equals the hand-weighted official one."""
    weights = {"mel": 7.0, "fm": 3.0, "adv": 0.5}
    cfg = tiny_config(disc_start_step=0, loss_weights=weights)
    train, valid = Corpus(folder=tiny_corpus, valid_count=2).resolve(cfg.seed)
    trainer = Trainer(cfg, scan_clips(train, cfg, cli=True).clips, scan_clips(valid, cfg, cli=True).clips,
                      TrainOptions(out=tmp_path, progress=False, checkpoint_interval=0, validation_interval=0))
    for module in (trainer.generator, trainer.mpd, trainer.msd):
        module.to(torch.float64)
    ref = official_copies(cfg, trainer.generator, trainer.mpd, trainer.msd)
    grads: dict = {}
    capture_gradients(trainer.optim_g, named_parameters({"generator": trainer.generator}, True), grads, "ours")
    capture_gradients(ref[3], named_parameters({"generator": ref[0]}, False), grads, "ref")
    mel, audio, mel_target, index = next(iter(trainer.loader))
    batch = (mel.double(), audio.double(), mel_target.double(), index)
    result = trainer.train_step(batch)
    weighted_official_step(ref, batch, MelSpectrogram(**cfg.mel_kwargs(for_loss=True)), weights)

    assert result.ok and set(grads["ours"]) == set(grads["ref"])
    for key, want in grads["ref"].items():
        error = float((grads["ours"][key] - want).norm() / want.norm().clamp_min(1e-300))
        assert error < 1e-9, (key, error)
    assert result.terms["g/fm_mpd"] > 0 and result.terms["g/adv_msd"] > 0


def test_an_older_checkpoint_without_named_parts_resumes(tmp_path, tiny_corpus):
    """Checkpoints written before loss_weights/discriminators: config with lambda_* keys, mpd and msd weights."""
    cfg = tiny_config()
    train, valid = Corpus(folder=tiny_corpus, valid_count=2).resolve(cfg.seed)
    trainer = Trainer(cfg, scan_clips(train, cfg, cli=True).clips, scan_clips(valid, cfg, cli=True).clips,
                      TrainOptions(out=tmp_path, progress=False))
    payload = trainer.state_payload()
    legacy = {k: v for k, v in payload["config"].items() if k not in ("loss_weights", "discriminators")}
    payload["config"] = {**legacy, "lambda_fm": 2.0, "lambda_mel": 45.0}
    from hifigan.checkpoints.format import config_of

    assert config_of(payload, "old.pt") == cfg
    trainer.restore(payload, tmp_path / "old.pt")
    assert equal_states(trainer.msd.state_dict(), payload["msd"])


@pytest.mark.parametrize("key", ["run", "data", "generator", "config", "step"])
def test_a_discriminator_cannot_take_the_name_of_a_checkpoint_key(key):
    """A training checkpoint stores each discriminator under its name beside its own keys (the run settings under
    'run', the data under 'data'): a discriminator of such a name would be overwritten, so it is refused."""
    from hifigan.training.registry import DISCRIMINATORS, register_discriminator

    with pytest.raises(ValueError, match=f"^{key!r} is a checkpoint key of its own"):
        register_discriminator(key, lambda config: torch.nn.Identity())
    assert key not in DISCRIMINATORS


def test_a_second_part_under_a_taken_name_is_refused_and_the_first_kept():
    """Registering a name again with the same factory is harmless; with another one it is refused (the built-in
    mpd and the mel loss term stay what they were)."""
    from hifigan.training.registry import DISCRIMINATORS, GENERATOR_TERMS, register_generator_term

    mpd, mel = DISCRIMINATORS["mpd"], GENERATOR_TERMS["mel"]
    assert register_discriminator("mpd", mpd) is mpd and register_generator_term("mel", mel) is mel
    with pytest.raises(ValueError, match=r"^a discriminator named 'mpd' is registered already$"):
        register_discriminator("mpd", lambda config: torch.nn.Identity())
    with pytest.raises(ValueError, match=r"^a generator loss term named 'mel' is registered already$"):
        register_generator_term("mel", lambda inputs, weight: None)
    assert DISCRIMINATORS["mpd"] is mpd and GENERATOR_TERMS["mel"] is mel
