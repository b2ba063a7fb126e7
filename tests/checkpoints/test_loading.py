"""hifigan.checkpoints.contents: which kind a checkpoint is, what it gives in our keys, and where --init-from finds the
discriminators. Files are real (torch.save / write_checkpoint of real modules)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from hifigan.checkpoints.config_over import config_over_model, laid_over, model_difference
from hifigan.checkpoints.contents import CheckpointContents, official_discriminator_file
from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.checkpoints.official import official_discriminators_dict, official_generator_dict
from hifigan.config import load_config
from hifigan.errors import CheckpointError
from hifigan.models import Generator, MultiPeriodDiscriminator, MultiScaleDiscriminator
from hifigan.training.init_weights import discriminator_source
from tests.support.tiny import tiny_config


def same(a: dict, b: dict) -> bool:
    return list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """An official g_/do_ pair, a lone official g_ file, ours with discriminators and ours without (the tiny config's
    narrow MPD and MSD: the same keys, spectral norm's included, as official-size ones; written once for the module,
    the tests only read them)."""
    tmp_path = tmp_path_factory.mktemp("loading")
    torch.manual_seed(0)
    cfg = tiny_config()
    widths = cfg.discriminator_args
    generator = Generator(cfg)
    mpd, msd = MultiPeriodDiscriminator(**widths["mpd"]), MultiScaleDiscriminator(**widths["msd"])
    adam = {"state": {0: {"step": torch.tensor(1.0)}}, "param_groups": [{"params": [0]}]}
    official = official_discriminators_dict(mpd.state_dict(), msd.state_dict(), optim_g=adam, steps=3)
    paths = {"g": tmp_path / "g_00000003", "do": tmp_path / "do_00000003", "lone": tmp_path / "g_00000009",
             "ours": tmp_path / "ours.pt", "bare": tmp_path / "bare.pt"}
    torch.save(official_generator_dict(generator.state_dict()), paths["g"])
    torch.save(official_generator_dict(generator.state_dict()), paths["lone"])
    torch.save(official, paths["do"])
    write_checkpoint(paths["ours"], generator_payload(generator.state_dict(), cfg, mpd=mpd.state_dict(),
                                                      msd=msd.state_dict(), optim_g=adam))
    write_checkpoint(paths["bare"], generator_payload(generator.state_dict(), cfg))
    return paths, cfg, generator, mpd, msd


def test_both_kinds_give_the_same_weights_in_our_keys(files):
    paths, _, generator, mpd, msd = files
    official, ours = CheckpointContents.read(paths["g"]), CheckpointContents.read(paths["ours"])
    assert official.official and not ours.official
    assert same(official.generator_state(), generator.state_dict())
    assert same(ours.generator_state(), generator.state_dict())
    for contents in (CheckpointContents.read(paths["do"]), ours):
        states = contents.discriminator_states(["mpd", "msd"])
        assert same(states["mpd"], mpd.state_dict()) and same(states["msd"], msd.state_dict())
        assert contents.optimizer_state("optim_g")["state"][0]["step"] == 1
        assert contents.optimizer_state("optim_d") is None  # an empty optimizer state holds no moments
    assert CheckpointContents.read(paths["do"]).discriminator_names(["msd", "mpd", "mrd"]) == ["msd", "mpd"]
    assert ours.discriminator_names(["msd", "mpd", "mrd"]) == ["msd", "mpd", "mrd"]


def test_what_a_file_cannot_give_is_a_one_line_error_naming_it(files):
    paths, cfg, *_ = files
    with pytest.raises(CheckpointError, match="not a discriminator checkpoint") as e:
        CheckpointContents.read(paths["g"]).discriminator_states(["mpd", "msd"])
    assert e.value.path == str(paths["g"])
    with pytest.raises(CheckpointError, match=r"an official do_\* file .*, not a generator"):
        CheckpointContents.read(paths["do"]).generator_state()
    with pytest.raises(CheckpointError, match="holds no mpd weights"):
        CheckpointContents.read(paths["bare"]).discriminator_states(["mpd"])
    with pytest.raises(CheckpointError, match=r"official checkpoint carries no config: pass config=\.\.\. "):
        CheckpointContents.read(paths["g"]).config()
    assert CheckpointContents.read(paths["g"]).config(cfg) == cfg
    assert CheckpointContents.read(paths["ours"]).config() == cfg
    other = tiny_config(upsample_initial_channel=64)
    assert model_difference(cfg, other) == "upsample_initial_channel" and model_difference(cfg, cfg) is None
    with pytest.raises(CheckpointError, match="conflicts with the checkpoint's config: upsample_initial_channel"):
        CheckpointContents.read(paths["ours"]).config(other)
    # a training key (batch, learning rate) may differ: a whole config given is what comes back
    given = tiny_config(batch_size=cfg.batch_size + 5)
    assert CheckpointContents.read(paths["ours"]).config(given) == given


# What decides the generator's weights or the mel it takes, written out: each must count as another model.
MODEL = {"generator": "mine", "generator_args": {"channels": 3}, "resblock": "1", "upsample_rates": [2],
         "upsample_kernel_sizes": [5], "upsample_initial_channel": 7, "resblock_kernel_sizes": [5],
         "resblock_dilation_sizes": [[2]], "num_mels": 40, "n_fft": 2048, "hop_size": 128, "win_size": 512,
         "sampling_rate": 16000, "fmin": 30, "fmax": 5000, "mel_convention": "log10", "mel_floor": 1e-6,
         "mel_framing": "center", "mel_magnitude_eps": 0.0, "mel_stats": {"mean": [-5.0] * 16, "std": [2.0] * 16}}


def test_every_key_that_decides_the_model_is_compared():
    import copy

    cfg = tiny_config()
    for key, value in MODEL.items():
        other = copy.copy(cfg)
        object.__setattr__(other, key, value)  # one key alone, past the validation that would tie it to others
        assert getattr(cfg, key) != value and model_difference(cfg, other) == key
    for key, value in {"batch_size": 3, "learning_rate": 1e-3, "segment_size": 256, "seed": 5}.items():
        other = copy.copy(cfg)
        object.__setattr__(other, key, value)
        assert model_difference(cfg, other) is None, key


def test_values_that_give_the_same_mel_are_the_same_model(tmp_path):
    """fmax null is half the rate (librosa's fmax=None) and mel_floor null the convention's floor: a --config that
    writes them out (BigVGAN's fmax 12000 at 24 kHz) is the same model; any other value is refused naming it."""
    official, log10 = tiny_config(), tiny_config(mel_convention="log10")
    assert official.fmax is None and official.sampling_rate == 8000 and official.mel_floor is None
    same = [(official, "fmax: 4000\n"), (official, "fmax: 4000.0\n"), (official, "mel_floor: 1.0e-5\n"),
            (log10, "mel_floor: 1.0e-10\n")]
    for own, text in same:
        (tmp_path / "ft.yaml").write_text(text)
        assert model_difference(own, config_over_model(own, tmp_path / "ft.yaml", None, "model", cli=False)) is None
    refused = [(official, "fmax: 3999\n", "fmax is 3999, the model has None"),
               (log10, "mel_floor: 1.0e-9\n", "mel_floor is 1e-09, the model has None")]
    for own, text, said in refused:
        (tmp_path / "ft.yaml").write_text(text)
        with pytest.raises(CheckpointError, match=f"conflicts with the checkpoint's config: {said}$"):
            config_over_model(own, tmp_path / "ft.yaml", "ours.pt", "checkpoint's config", cli=False)


def test_where_init_from_finds_the_discriminators(files):
    paths, *_ = files
    names = ["msd", "mpd"]
    assert official_discriminator_file(paths["g"]) == paths["do"]
    assert official_discriminator_file(paths["lone"]) is None  # no do_00000009 beside it
    assert official_discriminator_file(paths["ours"]) is None  # not named g_*
    ours = CheckpointContents.read(paths["ours"])
    assert discriminator_source(ours, names, None) is ours  # our checkpoint holds them all: itself
    assert discriminator_source(ours, names, paths["do"]).source == paths["do"]  # ... unless a file is given
    assert discriminator_source(ours, [*names, "mrd"], None) is ours  # ... some: those (the rest start fresh)
    assert discriminator_source(ours, ["mrd"], None) is None  # ... none: fresh unless given
    assert discriminator_source(ours, [*names, "mrd"], paths["do"]).source == paths["do"]
    official = CheckpointContents.read(paths["g"])
    assert discriminator_source(official, names, None).source == paths["do"]  # the do_* beside the g_*
    assert discriminator_source(official, names, paths["ours"]).source == paths["ours"]  # the one given wins
    assert discriminator_source(CheckpointContents.read(paths["lone"]), names, None) is None
    assert discriminator_source(CheckpointContents.read(paths["bare"]), names, None) is None


def test_a_preset_laid_over_sets_every_key_and_a_file_only_its_own(tmp_path):
    """v1's file leaves out disc_start_step and loss_weights: laid over a config that changed them, the preset still
    gives its own (defaults); a file that sets the learning rate changes that key alone."""
    own = dataclasses.replace(load_config("v1"), disc_start_step=500, loss_weights={"mel": 10.0, "fm": 2.0, "adv": 1.0})
    assert laid_over(own, "v1") == load_config("v1") != own
    (tmp_path / "lr.json").write_text('{"learning_rate": 0.001}')
    assert laid_over(own, tmp_path / "lr.json") == dataclasses.replace(own, learning_rate=0.001)


def test_a_config_laid_over_a_normalising_model_must_keep_its_statistics(tmp_path):
    """A model trained on normalised mels (its checkpoint holds the statistics' values): a --config that drops them
    or names other ones would feed it mels it never saw, and is refused naming mel_stats; the file its values
    came from, or the same values written out, is the same model."""
    import numpy as np

    own = tiny_config(mel_stats={"mean": [-5.0] * 16, "std": [2.0] * 16})
    np.savez(tmp_path / "same.npz", mean=np.full(16, -5.0), std=np.full(16, 2.0))
    np.savez(tmp_path / "other.npz", mean=np.full(16, -4.0), std=np.full(16, 2.0))
    refused = {"mel_stats: null\n": "mel_stats is None, the model has per-bin statistics",
               "mel_stats: other.npz\n": f"mel_stats is {str(tmp_path / 'other.npz')!r}, the model has other "
                                         "per-bin statistics"}
    for text, said in refused.items():
        (tmp_path / "ft.yaml").write_text(text)
        with pytest.raises(CheckpointError) as e:
            config_over_model(own, tmp_path / "ft.yaml", "ours.pt", "checkpoint's config", cli=False)
        given = f"config=Path({str(tmp_path / 'ft.yaml')!r})"  # the argument, as a Python caller wrote it
        assert str(e.value) == f"ours.pt: {given} conflicts with the checkpoint's config: {said}"
    for text in ("mel_stats: same.npz\n", "mel_stats: {mean: -5.0, std: 2.0}\n", "learning_rate: 1.0e-5\n"):
        (tmp_path / "ft.yaml").write_text(text)
        assert model_difference(own, config_over_model(own, tmp_path / "ft.yaml", None, "model", cli=False)) is None
