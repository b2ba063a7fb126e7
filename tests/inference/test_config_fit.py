"""A config that contradicts the geometry of the generator it is given with (Vocoder(generator, config),
export_generator(..., config=)) is one HifiganError naming the config key, not only where its hop or mel bins
differ: a V3 generator with a V1 config (both hop 256, 80 bins) was taken, and an export recorded V1 as its model."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from hifigan.checkpoints.contents import load_official_generator
from hifigan.config import load_config
from hifigan.errors import HifiganError
from hifigan.inference.export import export_generator
from hifigan.inference.export_facts import read_facts
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.models.generator import ResBlock2
from tests.support.official_reference import RefGenerator
from tests.support.tiny import MELS_80, tiny_config

SAID = "the config does not describe this generator: "


def test_a_v3_generator_with_the_v1_config_is_refused_naming_every_key_that_differs():
    with pytest.raises(HifiganError) as e:
        Vocoder(Generator(load_config("v3")), "v1")
    assert str(e.value) == (f"{SAID}it has upsample_rates [8, 8, 4], the config [8, 8, 2, 2]; upsample_kernel_sizes, "
                            "upsample_initial_channel, resblock, resblock_kernel_sizes, resblock_dilation_sizes "
                            "differ too")


@pytest.mark.parametrize(("changes", "said"), [
    ({"upsample_rates": [2, 8], "upsample_kernel_sizes": [4, 16]},
     "it has upsample_rates [4, 4], the config [2, 8]; upsample_kernel_sizes differs too"),
    ({"upsample_kernel_sizes": [8, 4]}, "it has upsample_kernel_sizes [8, 8], the config [8, 4]"),
    ({"upsample_initial_channel": 64}, "it has upsample_initial_channel 32, the config 64"),
    ({"resblock": "1", "resblock_dilation_sizes": [[1, 2], [2, 3]]}, "it has resblock '2', the config '1'"),
    ({"resblock_kernel_sizes": [3, 7]}, "it has resblock_kernel_sizes [3, 5], the config [3, 7]"),
    ({"resblock_dilation_sizes": [[1, 3], [2, 3]]},
     "it has resblock_dilation_sizes [[1, 2], [2, 3]], the config [[1, 3], [2, 3]]"),
    ({"resblock_dilation_sizes": [[1], [2, 3]]},
     "it has resblock_dilation_sizes [[1, 2], [2, 3]], the config [[1], [2, 3]]"),
])
def test_each_key_that_shapes_the_generator_is_checked(tiny_cfg, changes, said):
    """The tiny generator (hop 16, 16 bins) with a config of the same hop and bins that differs in one key."""
    with pytest.raises(HifiganError) as e:
        Vocoder(Generator(tiny_cfg), dataclasses.replace(tiny_cfg, **changes))
    assert str(e.value) == SAID + said


def test_a_generator_edited_past_what_a_config_can_say_names_the_convolution(tiny_cfg):
    """A block of the second stage swapped for one of another kernel: every key read from the first stage agrees,
    so the first convolution that differs from the config's generator is named."""
    generator = Generator(tiny_cfg)
    generator.resblocks[2] = ResBlock2(8, 7, (1, 2))
    with pytest.raises(HifiganError) as e:
        Vocoder(generator, tiny_cfg)
    assert str(e.value) == (f"{SAID}it has resblocks.2.convs.0 (kernel 7, stride 1, dilation 1, 8 -> 8 channels), "
                            "the config's generator resblocks.2.convs.0 (kernel 3, stride 1, dilation 1, 8 -> 8 "
                            "channels)")


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_export_refuses_the_same_config_before_writing_anything(tmp_path, tiny_cfg, fmt):
    with pytest.raises(HifiganError) as e:
        export_generator(Generator(tiny_cfg), fmt, tmp_path / f"g.{fmt}",
                         config=dataclasses.replace(tiny_cfg, upsample_initial_channel=64))
    assert str(e.value) == f"{SAID}it has upsample_initial_channel 32, the config 64"
    assert list(tmp_path.iterdir()) == []


def test_a_config_listing_more_dilations_than_the_official_code_builds_still_describes_its_generator():
    """load_official_generator reads a fork's config (resblock "2" with V1's three dilations) as the official code
    built it, two convolutions a block: Vocoder takes that generator with the same config, and vocodes as with the
    config cut to what was built."""
    built = tiny_config("2", **MELS_80, resblock_dilation_sizes=[[1, 3], [1, 3]])
    torch.manual_seed(0)
    state = RefGenerator(built).state_dict()
    given = dataclasses.replace(built, resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5]])
    mel = np.random.default_rng(0).normal(-5, 1, (80, 12)).astype(np.float32)
    audio = Vocoder(load_official_generator({"generator": state}, given), given, backend="eager")(mel)
    as_built = Vocoder(load_official_generator({"generator": state}, built), built, backend="eager")(mel)
    assert torch.equal(audio, as_built)


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
def test_the_vocoders_config_is_the_model_it_runs_as_an_export_records_it(tmp_path):
    """Vocoder(generator, the fork's config): its .config (what a caller rebuilds or saves the model from, and what
    a server reports) is the model's, two dilations a block, the one an export of the same generator records."""
    built = tiny_config("2", **MELS_80, resblock_dilation_sizes=[[1, 3], [1, 3]])
    torch.manual_seed(0)
    state = RefGenerator(built).state_dict()
    given = dataclasses.replace(built, resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5]])
    vocoder = Vocoder(load_official_generator({"generator": state}, given), given, backend="eager")
    assert vocoder.config == built
    export_generator(load_official_generator({"generator": state}, given), "torchscript", tmp_path / "g.pt",
                     config=given)
    assert json.loads(read_facts(tmp_path / "g.pt")["config"]) == vocoder.config.to_dict()
    assert Vocoder(Generator(built), given, backend="eager").config == built  # any generator of it, ours too


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
def test_an_export_with_such_a_config_records_the_model_as_built(tmp_path):
    """The same generator exported with the fork's config: the recorded config (and its dilations) is the model's,
    two convolutions a block, not the three the config lists, which a deployer would rebuild it from."""
    built = tiny_config("2", **MELS_80, resblock_dilation_sizes=[[1, 3], [1, 3]])
    torch.manual_seed(0)
    state = RefGenerator(built).state_dict()
    given = dataclasses.replace(built, resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5]])
    export_generator(load_official_generator({"generator": state}, given), "torchscript", tmp_path / "g.pt",
                     config=given)
    facts = read_facts(tmp_path / "g.pt")
    assert json.loads(facts["config"]) == built.to_dict()
