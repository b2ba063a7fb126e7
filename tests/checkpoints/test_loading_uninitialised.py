"""A generator built to be loaded (models.generators.empty_generator, what load_generator, load_pretrained, export,
serve and validation's copy build) skips the random initialisation the weights replace, and is exactly the generator
an initialised build loads: the same parameters bit for bit, weight-norm parametrisations, hooks and outputs. The
reference here is that build (build_generator, then load_generator_state), as loading ran before."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from hifigan import load_generator
from hifigan.checkpoints.contents import CheckpointContents, load_generator_state
from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.config import load_config
from hifigan.errors import CheckpointError
from hifigan.models.generators import GENERATORS, build_generator, register_generator
from hifigan.models.norms import weight_norm
from tests.support.cli_runs import failed_cleanly, run
from tests.support.official_reference import RefGenerator
from tests.support.tiny import tiny_config

pytestmark = pytest.mark.usefixtures("single_thread")


def initialised(path, config=None) -> nn.Module:
    """The file's generator as loading built it before: initialised at random, then every weight loaded."""
    contents = CheckpointContents.read(path)
    cfg = contents.config(config)
    generator = build_generator(cfg)
    load_generator_state(generator, contents.generator_state(cfg.generator), cfg, path)
    return generator


def structure(generator: nn.Module) -> list[tuple]:
    """Each module: name, class, training flag, parametrizations (their classes and weight norm's dim) and the names
    of its load_state_dict pre-hooks (torch's weight_g/weight_v renaming)."""
    rows = []
    for name, module in generator.named_modules():
        norms = () if not parametrize.is_parametrized(module) else tuple(
            (key, [(type(p).__name__, getattr(p, "dim", None)) for p in plist])
            for key, plist in module.parametrizations.items())
        hooks = [getattr(getattr(h, "hook", h), "__name__", "") for h in module._load_state_dict_pre_hooks.values()]
        rows.append((name, type(module).__name__, module.training, norms, hooks))
    return rows


def tensors(generator: nn.Module) -> list[tuple]:
    """Every parameter and buffer: name, kind, device, dtype, shape, strides, requires_grad."""
    held = [("p", n, t) for n, t in generator.named_parameters()] + [("b", n, t) for n, t in generator.named_buffers()]
    return [(kind, n, t.device, t.dtype, tuple(t.shape), t.stride(), t.requires_grad) for kind, n, t in held]


def assert_same_generator(loaded: nn.Module, reference: nn.Module, num_mels: int) -> None:
    assert structure(loaded) == structure(reference)
    assert tensors(loaded) == tensors(reference)
    for (name, a), b in zip(loaded.state_dict().items(), reference.state_dict().values()):
        assert torch.equal(a.view(torch.uint8), b.view(torch.uint8)), name  # bit for bit (-0.0 and NaN too)
    mel = torch.randn(2, num_mels, 12, generator=torch.Generator().manual_seed(5)) - 5
    with torch.no_grad():
        assert torch.equal(loaded(mel), reference(mel))
        assert torch.equal(loaded.eval()(mel), reference.eval()(mel))


@pytest.mark.parametrize("config", ["tiny1", "tiny2", "v3"])
def test_our_checkpoint_and_an_official_file_load_as_an_initialised_build_loads_them(tmp_path, config):
    """Ours (parametrization keys) and an official g_* file (the old weight_g/weight_v keys), V3 and both tiny
    residual blocks: the loaded generator is the one an initialised build loads."""
    cfg = load_config(config) if config == "v3" else tiny_config(config[-1])
    torch.manual_seed(0)
    official = RefGenerator(cfg).state_dict()
    assert any(key.endswith(".weight_g") for key in official)
    torch.save({"generator": official}, tmp_path / "g_00000001")
    write_checkpoint(tmp_path / "ours.pt", generator_payload(build_generator(cfg).state_dict(), cfg))
    for path, given in ((tmp_path / "g_00000001", cfg), (tmp_path / "ours.pt", None)):
        loaded, _ = load_generator(path, given)
        assert_same_generator(loaded, initialised(path, given), cfg.num_mels)


def test_loading_draws_nothing_from_torchs_rng(tiny_checkpoint):
    """No random initialisation is paid for: the caller's RNG state is as it was."""
    torch.manual_seed(3)
    before = torch.random.get_rng_state()
    load_generator(tiny_checkpoint)
    assert torch.equal(torch.random.get_rng_state(), before)


@pytest.mark.parametrize("key", ["conv_post.bias", "ups.1.parametrizations.weight.original0"])
def test_a_checkpoint_lacking_a_key_is_refused_as_before_and_vocodes_nothing(tmp_path, capsys, key):
    """The weights are checked before any is loaded: the same one-line error as an initialised build gives, and
    no tensor left unset reaches computation (no output)."""
    cfg = tiny_config()
    state = {k: v for k, v in build_generator(cfg).state_dict().items() if k != key}
    write_checkpoint(tmp_path / "bad.pt", generator_payload(state, cfg))
    with pytest.raises(CheckpointError) as reference:
        initialised(tmp_path / "bad.pt")
    with pytest.raises(CheckpointError) as e:
        load_generator(tmp_path / "bad.pt")
    assert str(e.value) == str(reference.value) == (f"{tmp_path / 'bad.pt'}: generator does not fit the config: "
                                                    f"missing key {key}")
    np.save(tmp_path / "mel.npy", np.full((cfg.num_mels, 20), -5.0, dtype=np.float32))
    code, _, err = run(capsys, "vocode", "-c", tmp_path / "bad.pt", "-o", tmp_path / "out", tmp_path / "mel.npy")
    failed_cleanly(code, err, tmp_path / "out", f"bad.pt: generator does not fit the config: missing key {key}")


class Unnamed(nn.Module):
    """A generator holding tensors its state dict does not name, made as it is built: a non-persistent buffer, a
    tensor attribute and a list of them. Built on the meta device they would stay meta, or be left unset."""

    def __init__(self, config, channels: int = 4) -> None:
        super().__init__()
        self.hop = config.hop_size
        self.conv = weight_norm(nn.Conv1d(config.num_mels, channels, 3, padding=1))
        self.register_buffer("gain", torch.full((channels, 1), 0.5), persistent=False)
        self.offset = torch.linspace(-0.1, 0.1, channels)[:, None]
        self.scales = [torch.tensor(2.0)]

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = (self.conv(mel) * self.gain + self.offset) * self.scales[0]
        return torch.tanh(x.mean(1, keepdim=True)).repeat_interleave(self.hop, dim=-1)


class NeedsValues(nn.Module):
    """A generator that reads a value as it is built (.item()), which the meta device does not hold."""

    def __init__(self, config) -> None:
        super().__init__()
        self.hop = config.hop_size
        self.conv = weight_norm(nn.Conv1d(config.num_mels, 1, 3, padding=1))
        self.limit = torch.tensor(0.75).item()

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return (self.limit * torch.tanh(self.conv(mel))).repeat_interleave(self.hop, dim=-1)


class Tied(nn.Module):
    """A generator whose two convolutions share one bias (a Parameter held by both modules)."""

    def __init__(self, config) -> None:
        super().__init__()
        self.hop = config.hop_size
        self.first = nn.Conv1d(config.num_mels, 1, 3, padding=1)
        self.second = nn.Conv1d(1, 1, 1)
        self.second.bias = self.first.bias

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.second(torch.relu(self.first(mel)))).repeat_interleave(self.hop, dim=-1)


def saved_and_loaded(tmp_path, factory) -> tuple[nn.Module, nn.Module]:
    """A generator registered for the call: one built, and the same loaded from its checkpoint."""
    register_generator("custom", factory)
    try:
        cfg = tiny_config(generator="custom")
        saved = build_generator(cfg)
        write_checkpoint(tmp_path / "g.pt", generator_payload(saved.state_dict(), cfg))
        return saved, load_generator(tmp_path / "g.pt")[0]
    finally:
        del GENERATORS["custom"]


def test_a_generator_holding_tensors_its_state_dict_does_not_name_is_built_initialised(tmp_path):
    """Those tensors hold the values its build gives (none on the meta device, none unset), and it computes what the
    generator it was saved from computes."""
    saved, loaded = saved_and_loaded(tmp_path, Unnamed)
    for name in ("gain", "offset"):
        assert torch.equal(getattr(loaded, name), getattr(saved, name)), name
    assert torch.equal(loaded.scales[0], saved.scales[0])
    mel = torch.randn(1, 16, 10, generator=torch.Generator().manual_seed(1)) - 5
    with torch.no_grad():
        assert torch.equal(loaded(mel), saved(mel))


def test_a_generator_the_meta_device_cannot_build_is_built_initialised(tmp_path):
    saved, loaded = saved_and_loaded(tmp_path, NeedsValues)
    assert loaded.limit == 0.75
    mel = torch.randn(1, 16, 10, generator=torch.Generator().manual_seed(1)) - 5
    with torch.no_grad():
        assert torch.equal(loaded(mel), saved(mel))


def test_a_parameter_two_modules_share_stays_shared(tmp_path):
    saved, loaded = saved_and_loaded(tmp_path, Tied)
    assert loaded.second.bias is loaded.first.bias and torch.equal(loaded.first.bias, saved.first.bias)
    mel = torch.randn(1, 16, 10, generator=torch.Generator().manual_seed(1)) - 5
    with torch.no_grad():
        assert torch.equal(loaded(mel), saved(mel))
