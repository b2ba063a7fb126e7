"""A generator saved after remove_weight_norm (plain `.weight` keys, as inference repos and forks save it) loads as
the weight-normed file it came from: g = ||w|| over every dim but 0, v = w, and the folded weights are w bit for bit."""

from __future__ import annotations

import pytest
import torch

from hifigan.checkpoints.contents import CheckpointContents, load_generator
from hifigan.checkpoints.format import generator_payload, load_state_strict, write_checkpoint
from hifigan.checkpoints.official import official_to_ours
from hifigan.inference.vocoder import Vocoder
from hifigan.models.generators import build_generator
from tests.support.official_reference import RefGenerator
from tests.support.tiny import tiny_config

G = "parametrizations.weight.original0"  # torch's g (the official weight_g)


def _removed(generator: RefGenerator, config) -> RefGenerator:
    """A copy of an official-style generator with the official code's remove_weight_norm applied to every layer."""
    plain = RefGenerator(config).to(next(generator.parameters()).dtype)
    plain.load_state_dict(generator.state_dict())
    for module in plain.modules():
        if hasattr(module, "weight_g"):
            torch.nn.utils.remove_weight_norm(module)
    return plain


def _folded(state: dict, config, dtype: torch.dtype) -> torch.nn.Module:
    """Our generator in `dtype` holding `state` (official keys), its weight norm then folded away for inference."""
    generator = build_generator(config).to(dtype)
    load_state_strict(generator, official_to_ours(state), None, "generator")
    return generator.eval().remove_weight_norm()


@pytest.mark.parametrize("resblock", ["1", "2"])
def test_a_plain_generator_gives_the_normed_one_bit_for_bit_in_float64(resblock):
    config = tiny_config(resblock)
    torch.manual_seed(0)
    official = RefGenerator(config).double()
    normed, plain = official.state_dict(), _removed(official, config).state_dict()
    assert not any(k.endswith(("weight_g", "weight_v")) for k in plain) and "ups.0.weight" in plain
    ours = build_generator(config).double()
    load_state_strict(ours, official_to_ours(plain), None, "generator")
    rebuilt = ours.state_dict()
    # g is the norm over every dim but 0, as the official weight_norm's default takes it: for the transposed
    # convolutions ((in, out, kernel) weights) one per input channel, the shape of the official weight_g
    assert rebuilt[f"ups.0.{G}"].shape == normed["ups.0.weight_g"].shape == (config.upsample_initial_channel, 1, 1)
    for key in (k for k in normed if k.endswith("weight_g")):
        torch.testing.assert_close(rebuilt[key.replace("weight_g", G)], normed[key], rtol=1e-14, atol=0)
    a, b = _folded(normed, config, torch.float64), _folded(plain, config, torch.float64)
    for key, tensor in a.state_dict().items():
        assert torch.equal(b.state_dict()[key], tensor), key
    mel = torch.randn(2, config.num_mels, 12, dtype=torch.float64)
    with torch.no_grad():
        assert torch.equal(a(mel), b(mel))


def test_a_plain_g_file_vocodes_as_the_normed_file_bit_for_bit(tmp_path):
    """Through the files, prefixed as a DataParallel model saves them, in float32: the same audio, every bit."""
    config = tiny_config("1")
    torch.manual_seed(0)
    official = RefGenerator(config)
    torch.save({"generator": official.state_dict()}, tmp_path / "g_00000010")
    plain = {"module." + k: v for k, v in _removed(official, config).state_dict().items()}
    torch.save({"generator": plain}, tmp_path / "g_plain")
    assert CheckpointContents.read(tmp_path / "g_plain").official
    mel = torch.randn(config.num_mels, 20) - 5
    wanted = Vocoder.from_checkpoint(tmp_path / "g_00000010", config)(mel)
    assert torch.equal(Vocoder.from_checkpoint(tmp_path / "g_plain", config)(mel), wanted)


def test_our_checkpoint_of_plain_weights_loads_as_the_normed_one(tmp_path):
    config = tiny_config()
    torch.manual_seed(0)
    generator = build_generator(config)
    plain = build_generator(config)
    plain.load_state_dict(generator.state_dict())
    write_checkpoint(tmp_path / "plain.pt", generator_payload(plain.remove_weight_norm().state_dict(), config))
    loaded = load_generator(tmp_path / "plain.pt")[0].eval().remove_weight_norm()
    mel = torch.randn(1, config.num_mels, 10)
    with torch.no_grad():
        assert torch.equal(loaded(mel), generator.eval().remove_weight_norm()(mel))


def test_plain_half_precision_weights_load_as_their_float32_values_bit_for_bit():
    """A plain file saved from a half-precision model, loaded into a float32 generator: g is taken in float32 from
    the weights as float32 holds them, so that the folded weights are the file's, every bit (a g taken in float16
    first was off in its last bits)."""
    config = tiny_config("1")
    torch.manual_seed(0)
    plain = _removed(RefGenerator(config).half(), config).state_dict()
    assert plain["conv_pre.weight"].dtype == torch.float16
    wanted = _folded({k: v.float() for k, v in plain.items()}, config, torch.float32).state_dict()
    for key, tensor in _folded(plain, config, torch.float32).state_dict().items():
        assert torch.equal(tensor, wanted[key]), key
