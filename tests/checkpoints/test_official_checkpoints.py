"""Official checkpoints <-> ours: exact in both directions, files included."""

import copy

import numpy as np
import pytest
import torch
from torch import nn

from hifigan.checkpoints.contents import load_generator, load_official_discriminators, load_official_generator
from hifigan.checkpoints.format import generator_payload, read_checkpoint, write_checkpoint
from hifigan.checkpoints.official import (
    official_discriminators_dict,
    official_generator_dict,
    official_to_ours,
    ours_to_official,
)
from hifigan.config import load_config
from hifigan.errors import CheckpointError
from hifigan.models import Generator
from hifigan.models.norms import spectral_norm, weight_norm
from tests.support.official_reference import RefGenerator, RefMPD, RefMSD
from tests.support.tiny import tiny_config


def assert_same_tensors(a: dict, b: dict):
    assert list(a) == list(b) or set(a) == set(b)
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.mark.parametrize("version", ["v1", "v3"])
def test_official_generator_round_trip_is_exact(version):
    official = RefGenerator(load_config(version)).state_dict()
    ours = load_official_generator(official, load_config(version))
    assert_same_tensors(official_generator_dict(ours.state_dict())["generator"], official)
    assert_same_tensors(official_to_ours(ours_to_official(ours.state_dict())), ours.state_dict())


def test_official_discriminator_round_trip_is_exact():
    mpd, msd = RefMPD(), RefMSD()
    msd(torch.randn(1, 1, 2048), torch.randn(1, 1, 2048))  # move the power-iteration vectors off their init
    official = {"mpd": mpd.state_dict(), "msd": msd.state_dict()}
    assert {"discriminators.0.convs.0.weight_orig", "discriminators.0.convs.0.weight_u",
            "discriminators.0.convs.0.weight_v", "discriminators.1.convs.0.weight_g"} <= set(official["msd"])
    our_mpd, our_msd = load_official_discriminators(official)
    back = official_discriminators_dict(our_mpd.state_dict(), our_msd.state_dict(), steps=7, epoch=2)
    assert_same_tensors(back["mpd"], official["mpd"])
    assert_same_tensors(back["msd"], official["msd"])
    assert (back["steps"], back["epoch"]) == (7, 2)


@pytest.mark.parametrize(("norm", "official_keys"), [(weight_norm, {"weight_g", "weight_v", "bias"}),
                                                      (spectral_norm, {"weight_orig", "weight_u", "weight_v", "bias"})])
def test_a_lone_normed_convolution_renames_both_ways(norm, official_keys):
    """A module's own state (keys without a module path) renames as a submodule's does."""
    ours = norm(nn.Conv1d(2, 3, 5)).state_dict()
    official = ours_to_official(ours)
    assert set(official) == official_keys
    assert_same_tensors(official_to_ours(official), ours)


def test_official_optimizer_state_maps_one_to_one():
    """Parameter order is the same in both codes, so an official AdamW state drives our modules identically."""
    cfg = tiny_config("1")
    torch.manual_seed(0)
    ref = RefGenerator(cfg)
    ours = load_official_generator(ref.state_dict(), cfg)
    opt_ref = torch.optim.AdamW(ref.parameters(), 2e-4, betas=(0.8, 0.99))
    mel = torch.randn(2, cfg.num_mels, 8)
    ref(mel).square().mean().backward()
    opt_ref.step()
    opt_ours = torch.optim.AdamW(ours.parameters(), 2e-4, betas=(0.8, 0.99))
    ours.load_state_dict(official_to_ours(ref.state_dict()))
    opt_ours.load_state_dict(copy.deepcopy(opt_ref.state_dict()))  # as if read from a file: no shared tensors
    for model, opt in ((ref, opt_ref), (ours, opt_ours)):
        opt.zero_grad()
        model(mel).square().mean().backward()
        opt.step()
    assert_same_tensors(ours_to_official(ours.state_dict()), ref.state_dict())


def _official_discriminator_keys() -> list[str]:
    """The official do_* parameter names in the official optimizer order, written out from its models.py:
    AdamW(itertools.chain(msd.parameters(), mpd.parameters())). Each conv registers its bias, then its norm's
    parameters (weight_g, weight_v for weight norm; weight_orig for spectral norm, on MSD's first scale only).
    MPD's five period discriminators are, in order, periods 2, 3, 5, 7, 11."""
    keys = []
    for scale in range(3):
        norm = ["weight_orig"] if scale == 0 else ["weight_g", "weight_v"]
        for layer in [f"convs.{i}" for i in range(7)] + ["conv_post"]:
            keys += [f"msd.discriminators.{scale}.{layer}.{leaf}" for leaf in ["bias", *norm]]
    for index in range(5):
        for layer in [f"convs.{i}" for i in range(5)] + ["conv_post"]:
            keys += [f"mpd.discriminators.{index}.{layer}.{leaf}" for leaf in ["bias", "weight_g", "weight_v"]]
    return keys


def test_discriminator_optimizer_follows_the_official_parameter_order(tmp_path, tiny_corpus):
    """Optimizer states in do_* files are matched by position: ours must list the same parameters in the same
    order. The five period discriminators have identical shapes, so only names and periods tell them apart."""
    from hifigan import Trainer, TrainOptions
    from hifigan.data.clip_scan import scan_clips
    from hifigan.data.corpus import Corpus

    cfg = tiny_config()
    train, valid = Corpus(folder=tiny_corpus, valid_count=2).resolve(cfg.seed)
    trainer = Trainer(cfg, scan_clips(train, cfg, cli=True).clips, scan_clips(valid, cfg, cli=True).clips,
                      TrainOptions(out=tmp_path, progress=False))
    names = {id(p): f"{prefix}.{name}" for prefix, module in (("msd", trainer.msd), ("mpd", trainer.mpd))
             for name, p in module.named_parameters()}
    ours = [names[id(p)] for group in trainer.optim_d.param_groups for p in group["params"]]
    as_official = list(ours_to_official(dict.fromkeys(ours, None)))
    assert as_official == _official_discriminator_keys()
    assert [d.period for d in trainer.mpd.discriminators] == [2, 3, 5, 7, 11]


@pytest.mark.parametrize("legacy", [False, True])
def test_official_g_file_loads(tmp_path, legacy):
    """Official g_* files, in torch's zip format and the legacy format older releases wrote."""
    cfg = tiny_config("2")
    ref = RefGenerator(cfg).eval()
    path = tmp_path / "g_00000100"
    torch.save({"generator": ref.state_dict()}, path, _use_new_zipfile_serialization=not legacy)
    generator, loaded_cfg = load_generator(path, cfg)
    mel = torch.randn(1, cfg.num_mels, 9)
    with torch.no_grad():
        assert torch.equal(generator.eval()(mel), ref(mel))
    assert loaded_cfg == cfg


def test_official_g_file_needs_a_config(tmp_path):
    path = tmp_path / "g_00000100"
    torch.save({"generator": RefGenerator(tiny_config()).state_dict()}, path)
    with pytest.raises(CheckpointError, match=r"pass config=\.\.\. \(a preset"):
        load_generator(path)


def test_config_messages_name_the_argument_from_python_and_the_option_from_the_commands(tmp_path, tiny_checkpoint,
                                                                                        capsys):
    """`Vocoder.from_checkpoint` and `load_generator` said `pass --config` and `--config conflicts` to a Python
    caller, who has no such option (the project's rule: Python spellings unless cli=True)."""
    from hifigan.cli import main
    from hifigan.inference import Vocoder

    official = tmp_path / "g_00000100"
    torch.save({"generator": RefGenerator(tiny_config()).state_dict()}, official)
    with pytest.raises(CheckpointError) as e:
        Vocoder.from_checkpoint(official)
    assert str(e.value) == f"{official}: official checkpoint carries no config: pass config=... (a preset such as " \
                           "v1, or a json)"
    with pytest.raises(CheckpointError) as e:
        Vocoder.from_checkpoint(tiny_checkpoint, config="v1")
    assert str(e.value).startswith(f"{tiny_checkpoint}: config='v1' conflicts with the checkpoint's config: ")
    with pytest.raises(CheckpointError, match=r": config=\.\.\. conflicts with the checkpoint's config: "):
        load_generator(tiny_checkpoint, load_config("v1"))
    mel = tmp_path / "a.npy"
    np.save(mel, np.full((16, 10), -5.0, dtype=np.float32))  # a good input: each command stops at the model
    for checkpoint, said in [(official, "official checkpoint carries no config: pass --config (a preset such as v1"),
                             (tiny_checkpoint, "--config conflicts with the checkpoint's config: ")]:
        args = ["vocode", "-c", str(checkpoint), "-o", str(tmp_path / "out"), str(mel)]
        assert main([*args, *([] if checkpoint == official else ["--config", "v1"])]) == 2
        assert said in capsys.readouterr().err


def test_wrong_config_names_the_first_mismatch(tmp_path):
    path = tmp_path / "g_00000100"
    torch.save({"generator": RefGenerator(tiny_config("2")).state_dict()}, path)
    with pytest.raises(CheckpointError, match=r"missing key resblocks\.0\.convs1\.0"):
        load_generator(path, tiny_config("1"))
    with pytest.raises(CheckpointError, match=r"upsample_initial_channel is 64, the weights take 32 "
                                              r"\(conv_pre\.bias \(32,\) vs \(64,\)\)"):
        load_generator(path, tiny_config("2", upsample_initial_channel=64))


def test_own_checkpoint_carries_its_config(tmp_path):
    cfg = tiny_config("1")
    generator = Generator(cfg)
    path = tmp_path / "model.pt"
    write_checkpoint(path, generator_payload(generator.state_dict(), cfg))
    loaded, loaded_cfg = load_generator(path)
    assert loaded_cfg == cfg
    assert_same_tensors(loaded.state_dict(), generator.state_dict())
    assert read_checkpoint(path)["hifigan_checkpoint"] == 1


def test_own_checkpoint_rejects_a_contradicting_config(tmp_path):
    cfg = tiny_config("1")
    path = tmp_path / "model.pt"
    write_checkpoint(path, generator_payload(Generator(cfg).state_dict(), cfg))
    assert load_generator(path, cfg)[1] == cfg  # the same config is fine
    with pytest.raises(CheckpointError, match="conflicts with the checkpoint's config: resblock is '2'"):
        load_generator(path, tiny_config("2"))
