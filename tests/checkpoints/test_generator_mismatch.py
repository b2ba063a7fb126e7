"""A generator that does not fit the config: the message names the config key behind the first tensor that does
not fit (real generators built from tiny configs, their weights loaded into another config's)."""

from __future__ import annotations

import json

import pytest
import torch

from hifigan.checkpoints.contents import generator_with, load_generator
from hifigan.checkpoints.official import ours_to_official
from hifigan.errors import CheckpointError
from hifigan.models.generators import build_generator
from tests.support.cli_runs import one_line, run
from tests.support.files import save_config_json
from tests.support.tiny import tiny_config

ONE_STAGE = {"upsample_rates": [16], "upsample_kernel_sizes": [32]}
CASES = [
    ({}, {"num_mels": 20}, "num_mels is 20, the weights take 16 (conv_pre.parametrizations.weight.original1 "
                           "(32, 16, 7) vs (32, 20, 7))"),
    ({}, {"upsample_initial_channel": 64}, "upsample_initial_channel is 64, the weights take 32 (conv_pre."),
    ({}, {"upsample_rates": [2, 8], "upsample_kernel_sizes": [4, 16]},
     "upsample_kernel_sizes[0] is 4, the weights take 8 (ups.0."),
    ({"upsample_rates": [4, 2, 2], "upsample_kernel_sizes": [8, 4, 4]},
     {"upsample_rates": [4, 4], "upsample_kernel_sizes": [8, 4]}, "len(upsample_rates) is 2, the weights have 3 ("),
    ({}, {"resblock_kernel_sizes": [3, 7]}, "resblock_kernel_sizes[1] is 7, the weights take 5 (resblocks.1."),
    ({}, {"resblock": "1"}, "resblock is '1' (ResBlock1: convs1, convs2), the weights are ResBlock2's (convs) "
                            "(missing key resblocks.0.convs1."),
    ({}, {"resblock_dilation_sizes": [[1, 2, 4], [2, 3]]},
     "resblock_dilation_sizes[0] has 3 dilations, the weights 2 (missing key resblocks.0.convs.2."),
    ({}, {"resblock_kernel_sizes": [3], "resblock_dilation_sizes": [[1, 2]]},
     "len(resblock_kernel_sizes) is 1, the weights have 2 ("),
    # one stage: every block the config has fits, and the first key that does not is one it lacks (or one more)
    ({**ONE_STAGE, "resblock_kernel_sizes": [3, 3], "resblock_dilation_sizes": [[1, 2], [1, 2]]},
     {**ONE_STAGE, "resblock_kernel_sizes": [3], "resblock_dilation_sizes": [[1, 2]]},
     "len(resblock_kernel_sizes) is 1, the weights have 2 (unexpected key resblocks.1."),
    ({**ONE_STAGE, "resblock_kernel_sizes": [3], "resblock_dilation_sizes": [[1, 2]]},
     {**ONE_STAGE, "resblock_kernel_sizes": [3, 3], "resblock_dilation_sizes": [[1, 2], [1, 2]]},
     "len(resblock_kernel_sizes) is 2, the weights have 1 (missing key resblocks.1."),
]


@pytest.mark.parametrize(("trained", "given", "said"), CASES)
def test_the_message_names_the_config_key(trained, given, said):
    torch.manual_seed(0)
    state = build_generator(tiny_config(**trained)).state_dict()
    with pytest.raises(CheckpointError) as caught:
        generator_with(state, tiny_config(**given), "g")
    assert f"generator does not fit the config: {said}" in str(caught.value)


def test_an_official_file_at_another_hop_names_the_kernel(tmp_path):
    """An official g_* file (weight_g / weight_v keys) loaded with a config of another hop."""
    torch.manual_seed(0)
    g_path = tmp_path / "g_00000001"
    torch.save({"generator": ours_to_official(build_generator(tiny_config()).state_dict())}, g_path)
    config = save_config_json(tmp_path / "other.json", tiny_config(upsample_rates=[8, 4], upsample_kernel_sizes=[16, 8],
                                                                   hop_size=32))
    with pytest.raises(CheckpointError) as caught:
        load_generator(g_path, config)
    assert str(caught.value).startswith(f"{g_path}: generator does not fit the config {config}: "
                                        "upsample_kernel_sizes[0] is 16, the weights take 8 (ups.0.weight_v "
                                        "(32, 16, 8) vs (32, 16, 16))")


def test_the_command_names_the_checkpoint_and_the_config(tmp_path, capsys):
    """`vocode -c g_* --config PRESET` with another model's file: one line naming both."""
    torch.manual_seed(0)
    torch.save({"generator": build_generator(tiny_config()).state_dict()}, tmp_path / "g_00000001")
    code, _, err = run(capsys, "vocode", "-c", tmp_path / "g_00000001", "--config", "v3", "--out", tmp_path / "out",
                       tmp_path / "a.npy")
    assert code == 2 and (f"{tmp_path / 'g_00000001'}: generator does not fit the config v3: "
                          "upsample_initial_channel is 256, the weights take 32")  in one_line(err)


@pytest.mark.parametrize(("written", "hint"), [(1, True), ("1", False)])
def test_a_number_1_resblock_over_resblock2_weights_says_what_the_official_code_built(tmp_path, written, hint):
    """A fork's json with `"resblock": 1` (ResBlock1 here, ResBlock2 in the official code) over the ResBlock2
    weights the official code trained from it: the hint is said for the number 1 alone."""
    torch.manual_seed(0)
    torch.save({"generator": build_generator(tiny_config("2")).state_dict()}, tmp_path / "g_00000001")
    values = tiny_config("1").to_dict()
    (tmp_path / "fork.json").write_text(json.dumps({**values, "resblock": written}))
    with pytest.raises(CheckpointError) as caught:
        load_generator(tmp_path / "g_00000001", tmp_path / "fork.json")
    said = one_line(str(caught.value))
    assert said.startswith(f"{tmp_path / 'g_00000001'}: generator does not fit the config {tmp_path / 'fork.json'}: "
                           "resblock is '1' (ResBlock1: convs1, convs2), the weights are ResBlock2's (convs)")
    assert said.endswith(f"; {tmp_path / 'fork.json'} gives resblock as the number 1, from which the official code "
                         'builds ResBlock2 (it tests resblock == "1"): write "2" for these weights') == hint


@pytest.mark.parametrize(("resblock", "dropped"), [
    ("2", "resblocks.0.convs.1.weight_v"),
    ("2", "resblocks.3.convs.0.bias"),
    ("1", "resblocks.1.convs1.2.weight_g"),
    ("1", "resblocks.0.convs2.0.weight_v"),
])
def test_an_official_file_missing_one_tensor_of_a_block_blames_no_config_key(tmp_path, resblock, dropped):
    """Every layer of the block is there (another of its tensors is), so its dilations fit: the hint said
    'resblock_dilation_sizes[0] has 2 dilations, the weights 2', which contradicts itself; the missing key alone is
    true, named as the file would hold it (weight_g / weight_v, not our parametrization keys)."""
    torch.manual_seed(0)
    official = {"resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5]]} if resblock == "1" else {}  # ResBlock1 builds 3
    config = tiny_config(resblock, **official)
    state = ours_to_official(build_generator(config).state_dict())
    del state[dropped]
    torch.save({"generator": state}, tmp_path / "g_00000001")
    config_file = save_config_json(tmp_path / "config.json", config)
    with pytest.raises(CheckpointError) as caught:
        load_generator(tmp_path / "g_00000001", config_file)
    assert one_line(str(caught.value)) == (f"{tmp_path / 'g_00000001'}: generator does not fit the config "
                                           f"{config_file}: missing key {dropped}")
