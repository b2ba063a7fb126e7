"""Weights that do not fit name their key as the file spells it (an official file's weight_g / weight_v and
weight_orig / weight_u, a wrapper's 'module.', a plain weight saved after remove_weight_norm), so that the key a
message names is one the user finds in the file, not our parametrization key."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hifigan.checkpoints.contents import CheckpointContents, load_generator
from hifigan.checkpoints.format import generator_payload, load_state_strict, write_checkpoint
from hifigan.errors import CheckpointError
from hifigan.training.registry import build_discriminators
from tests.support.cli_runs import failed_cleanly, run
from tests.support.files import save_config_json
from tests.support.official_files import official_discriminator_file
from tests.support.official_reference import RefGenerator
from tests.support.tiny import tiny_config

CONFIG = tiny_config("2")


def _official_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return RefGenerator(CONFIG).state_dict()  # the official code's keys: weight_g / weight_v


def _plain_state() -> dict[str, torch.Tensor]:
    """The official generator's weights after remove_weight_norm: a plain `.weight` per layer."""
    torch.manual_seed(0)
    generator = RefGenerator(CONFIG)
    for module in generator.modules():
        if hasattr(module, "weight_g"):
            torch.nn.utils.remove_weight_norm(module)
    return generator.state_dict()


def _refusal(tmp_path, saved: dict) -> str:
    torch.save(saved, tmp_path / "g_00000001")
    config = save_config_json(tmp_path / "config.json", CONFIG)
    with pytest.raises(CheckpointError) as caught:
        load_generator(tmp_path / "g_00000001", config)
    prefix = f"{tmp_path / 'g_00000001'}: generator does not fit the config {config}: "
    assert str(caught.value).startswith(prefix)
    return str(caught.value)[len(prefix):]


def _without(state: dict, key: str) -> dict:
    assert key in state
    return {k: v for k, v in state.items() if k != key}


@pytest.mark.parametrize("wrapper", ["", "module.", "_orig_mod.module."])
def test_a_missing_key_of_an_official_file_is_named_as_it_would_hold_it(tmp_path, wrapper):
    state = {wrapper + k: v for k, v in _official_state().items()}
    said = _refusal(tmp_path, {"generator": _without(state, wrapper + "resblocks.0.convs.1.weight_v")})
    assert said == f"missing key {wrapper}resblocks.0.convs.1.weight_v"
    said = _refusal(tmp_path, _without(state, wrapper + "ups.1.weight_g"))  # a bare state dict alike
    assert said == f"missing key {wrapper}ups.1.weight_g"


def test_an_unexpected_or_misshaped_key_of_an_official_file_is_its_own(tmp_path):
    state = _official_state()
    said = _refusal(tmp_path, {"generator": {**state, "resblocks.0.convs.2.weight_v": torch.zeros(16, 16, 3)}})
    assert said == ("resblock_dilation_sizes[0] has 2 dilations, the weights 3 (unexpected key "
                    "resblocks.0.convs.2.weight_v)")
    said = _refusal(tmp_path, {"generator": {**state, "resblocks.1.convs.0.weight_v": torch.zeros(16, 16, 3)}})
    assert said == ("resblock_kernel_sizes[1] is 5, the weights take 3 (resblocks.1.convs.0.weight_v (16, 16, 3) vs "
                    "(16, 16, 5))")


def test_a_plain_file_is_named_by_its_plain_weights(tmp_path):
    """Missing: the `.weight` the file would hold (not a g or v it never had). Mis-shaped in its output channels,
    which g's shape follows: the weight's shapes, not g's."""
    state = _plain_state()
    said = _refusal(tmp_path, {"generator": _without(state, "resblocks.2.convs.0.weight")})
    assert said == "missing key resblocks.2.convs.0.weight"
    said = _refusal(tmp_path, {"generator": {**state, "resblocks.2.convs.0.weight": torch.zeros(4, 8, 3)}})
    assert said == "resblocks.2.convs.0.weight has shape (4, 8, 3), the model expects (8, 8, 3)"


def test_an_official_do_file_names_its_spectral_norm_keys():
    """The do_* file's MSD (its first scale spectral-normed: weight_orig / weight_u / weight_v) as --init-from
    loads it, into the tiny config's MSD."""
    do = official_discriminator_file(_official_state(), CONFIG, steps=1, epoch=0)
    key = "discriminators.0.convs.0.weight_u"
    del do["msd"][key]
    contents = CheckpointContents(do, "do_00000001")
    msd = build_discriminators(CONFIG)["msd"]
    with pytest.raises(CheckpointError) as caught:
        load_state_strict(msd, contents.discriminator_states(["msd"])["msd"], "do_00000001", "msd",
                          spelled=contents.spelling("msd"))
    assert str(caught.value) == f"do_00000001: msd does not fit the config: missing key {key}"


def test_the_command_names_the_key_as_the_file_holds_it(tmp_path, capsys):
    torch.save({"generator": _without(_official_state(), "conv_post.weight_g")}, tmp_path / "g_00000001")
    config = save_config_json(tmp_path / "config.json", CONFIG)
    np.save(tmp_path / "a.npy", np.full((CONFIG.num_mels, 10), -5.0, dtype=np.float32))
    code, _, err = run(capsys, "vocode", "-c", tmp_path / "g_00000001", "--config", config, "-o", tmp_path / "out",
                       tmp_path / "a.npy")
    failed_cleanly(code, err, tmp_path / "out", "g_00000001: generator does not fit the config",
                   ": missing key conv_post.weight_g")


def test_an_own_checkpoint_of_old_style_keys_is_not_taken_for_a_plain_one(tmp_path):
    """Our format holding weight_g / weight_v keys (renamed as an official file's are: it loads) holds no plain
    weight either: a missing g is named as the file spells it, not as a conv_pre.weight the file never had."""
    state = _official_state()
    del state["conv_pre.weight_g"]
    write_checkpoint(tmp_path / "old.pt", generator_payload(state, CONFIG))
    with pytest.raises(CheckpointError) as caught:
        load_generator(tmp_path / "old.pt")
    assert caught.value.problem == "generator does not fit the config: missing key conv_pre.weight_g"
