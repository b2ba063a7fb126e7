"""Our checkpoint format holding weights in the old hook-based norms' keys (weight_g / weight_v, weight_orig /
weight_u / weight_v: a user's script that saved torch.nn.utils.weight_norm modules into our dict, or a fork) loads
as the same file in our keys, exactly, for every reader: a vocoder, `hifigan vocode`, --init-from and a resume."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from hifigan.checkpoints.contents import CheckpointContents, load_generator
from hifigan.checkpoints.format import generator_payload, read_checkpoint, write_checkpoint
from hifigan.checkpoints.official import ours_to_official
from hifigan.cli import main
from hifigan.errors import CheckpointError
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.training.init_weights import init_from
from hifigan.training.state import new_state
from tests.support.cli_runs import failed_cleanly, tone, wav
from tests.support.files import equal_states
from tests.support.tiny import tiny_config

CFG = tiny_config(official_discriminators=False)


def _float64_generator() -> dict[str, torch.Tensor]:
    """A tiny generator's weights in float64 (bits a float32 round trip would lose)."""
    torch.manual_seed(0)
    return {k: v.double() + 1e-12 for k, v in Generator(CFG).state_dict().items()}


def _both(folder, state: dict, **extra) -> tuple:
    """Our checkpoint of `state` in our keys and the same in the old norms' keys: (ours, old)."""
    ours, old = folder / "ours.pt", folder / "old.pt"
    write_checkpoint(ours, generator_payload(state, CFG, **extra))
    old_extra = {k: ours_to_official(v) if k in ("mpd", "msd") else v for k, v in extra.items()}
    write_checkpoint(old, generator_payload(ours_to_official(state), CFG, **old_extra))
    return ours, old


def test_the_old_keys_are_renamed_to_ours_bit_for_bit_in_float64(tmp_path):
    state = _float64_generator()
    _, old = _both(tmp_path, state)
    held = read_checkpoint(old)["generator"]
    assert any(k.endswith(".weight_g") for k in held) and not any("parametrizations" in k for k in held)
    assert equal_states(CheckpointContents.read(old).generator_state(), state)


def test_a_vocoder_of_the_old_keys_is_the_one_of_ours(tmp_path):
    ours, old = _both(tmp_path, _float64_generator())
    a, b = Vocoder.from_checkpoint(ours), Vocoder.from_checkpoint(old)
    assert equal_states(a.generator.state_dict(), b.generator.state_dict())
    assert a.config == b.config
    mel = torch.randn(1, CFG.num_mels, 9, generator=torch.Generator().manual_seed(1)) - 4
    assert torch.equal(a(mel), b(mel))


def test_vocode_reads_the_old_keys(tmp_path):
    ours, old = _both(tmp_path, _float64_generator())
    clip = wav(tmp_path / "m.wav", tone(800))
    for ckpt in (ours, old):
        assert main(["vocode", "--checkpoint", str(ckpt), "-o", str(tmp_path / ckpt.stem), str(clip)]) == 0
    assert np.array_equal(sf.read(tmp_path / "ours" / "m.wav")[0], sf.read(tmp_path / "old" / "m.wav")[0])


def test_keys_of_neither_spelling_are_one_line_naming_the_key_as_the_file_spells_it(tmp_path, capsys):
    state = ours_to_official(_float64_generator())
    state["conv_pre.weight_x"] = state.pop("conv_pre.weight_g")
    write_checkpoint(tmp_path / "odd.pt", generator_payload(state, CFG))
    with pytest.raises(CheckpointError) as e:
        load_generator(tmp_path / "odd.pt")
    assert e.value.problem == "generator does not fit the config: missing key conv_pre.weight_g"
    code = main(["vocode", "--checkpoint", str(tmp_path / "odd.pt"), "-o", str(tmp_path / "out"),
                 str(tmp_path / "odd.pt")])
    failed_cleanly(code, capsys.readouterr().err, tmp_path / "out", "odd.pt", "missing key conv_pre.weight_g")


def _trained_state(seed: int):
    """A training state of CFG whose optimizers hold moments (one step on both)."""
    torch.manual_seed(seed)
    state = new_state(CFG, torch.device("cpu"))
    for optim, modules in ((state.optim_g, [state.generator]), (state.optim_d, state.discriminators.values())):
        sum(p.sum() for m in modules for p in m.parameters()).backward()
        optim.step()
    state.step, state.epoch = 3, 1
    return state


def test_init_from_our_file_in_the_old_keys_takes_every_weight_exactly(tmp_path):
    source = _trained_state(0)
    names = list(source.discriminators)
    ours, old = _both(tmp_path, source.generator.state_dict(),
                      **{n: m.state_dict() for n, m in source.discriminators.items()},
                      optim_g=source.optim_g.state_dict(), optim_d=source.optim_d.state_dict(),
                      step=3, epoch=1, batch_in_epoch=0)
    loaded = {}
    for path in (ours, old):
        state = _trained_state(1)
        lines = init_from(state, path)
        assert lines[1] == f"loaded discriminators ({', '.join(names)}) from {path}"
        loaded[path] = state.payload()
    assert equal_states(loaded[old]["generator"], source.generator.state_dict())
    for name in ("generator", *names, "optim_g", "optim_d"):
        assert equal_states(loaded[old][name], loaded[ours][name]), name


def test_a_resume_from_our_file_in_the_old_keys_restores_it_exactly(tmp_path):
    source = _trained_state(0)
    payload = source.payload()
    old = {k: ours_to_official(v) if k in ("generator", *source.discriminators) else v for k, v in payload.items()}
    assert any(k.endswith(".weight_orig") for k in old["msd"])  # the MSD's first scale: spectral norm
    state = _trained_state(1)
    state.restore(old, tmp_path / "latest.pt")
    restored = state.payload()
    for name in ("generator", *source.discriminators, "optim_g", "optim_d", "sched_g", "sched_d"):
        assert equal_states(restored[name], payload[name]), name
    assert (state.step, state.epoch) == (3, 1)
