"""Checkpoint I/O: weights-only loading that never runs pickled code, clean errors for any bad file,
strict state matching that names the first misfit."""

from __future__ import annotations

import io
import os
import pickle
from collections import OrderedDict

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hifigan.checkpoints.contents import load_generator
from hifigan.checkpoints.format import (
    generator_payload,
    load_state_strict,
    read_checkpoint,
    write_checkpoint,
)
from hifigan.errors import CheckpointError
from hifigan.models import Generator
from tests.support.tiny import tiny_config

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
CALLS: list[str] = []  # filled only if unpickling ever ran our code


def record(tag: str) -> str:
    CALLS.append(tag)
    return tag


class Payload:
    """Unpickling this calls `record`: proof of whether a loader executes pickled code."""

    def __reduce__(self):
        return record, ("executed",)


def test_round_trip(tmp_path):
    payload = {"a": torch.arange(5.0), "n": 3, "lr": 1e-4, "name": "g", "list": [torch.ones(2), 1],
               "od": OrderedDict(x=torch.zeros(2, 2))}
    write_checkpoint(tmp_path / "c.pt", payload)
    back = read_checkpoint(tmp_path / "c.pt")
    assert back.keys() == payload.keys()
    assert torch.equal(back["a"], payload["a"]) and back["n"] == 3 and back["name"] == "g"
    assert torch.equal(back["od"]["x"], payload["od"]["x"])


def _torch_save(path, obj):
    torch.save(obj, path)


def _torch_save_legacy(path, obj):
    torch.save(obj, path, _use_new_zipfile_serialization=False)


def _pickle(protocol):
    def dump(path, obj):
        with open(path, "wb") as f:
            pickle.dump(obj, f, protocol=protocol)
    return dump


SAVERS = {"torch.save": _torch_save, "torch legacy": _torch_save_legacy, **{f"pickle {p}": _pickle(p) for p in
                                                                             (0, 2, 4, 5)}}


@pytest.mark.parametrize("saver", list(SAVERS))
def test_pickled_code_is_refused_and_never_run(tmp_path, saver):
    path = tmp_path / "evil.pt"
    SAVERS[saver](path, {"generator": {"w": 1.0}, "hook": Payload()})
    CALLS.clear()
    with pytest.raises(CheckpointError, match="needs pickled code") as e:
        read_checkpoint(path)
    assert CALLS == []
    assert e.value.path == str(path)
    if saver != "pickle 0":  # protocol 0 goes through copy_reg; the others name our function
        assert "record" in e.value.problem


class BlockedPayload:
    """Unpickling this calls os.getpid (harmless): a function of a module (posix, nt) that torch's weights-only
    unpickler blocks outright, with another message than for a global it merely does not allow."""

    def __reduce__(self):
        return os.getpid, ()


@pytest.mark.parametrize("saver", ["torch.save", "torch legacy"])
def test_code_of_a_blocked_module_is_named_as_pickled_code(tmp_path, saver):
    """os.system-style payloads (the usual malicious checkpoint) are refused as needing code, named, not called
    'not a checkpoint'."""
    path = tmp_path / "evil.pt"
    SAVERS[saver](path, {"generator": {"w": torch.ones(2)}, "hook": BlockedPayload()})
    with pytest.raises(CheckpointError) as e:
        read_checkpoint(path)
    assert e.value.problem == (f"refused: it needs pickled code ({os.getpid.__module__}.getpid) to load; only weights "
                               "are loaded")


def test_plain_containers_load_without_code(tmp_path):
    for saver in ("torch.save", "torch legacy"):
        SAVERS[saver](tmp_path / "ok.pt", {"w": torch.ones(3), "steps": 7})
        assert read_checkpoint(tmp_path / "ok.pt")["steps"] == 7


@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory) -> dict[str, bytes]:
    """A small real checkpoint in both torch formats."""
    state = {"generator": {"conv.weight": torch.randn(4, 3, 5), "conv.bias": torch.zeros(4)}, "steps": 10}
    out = {}
    for name, legacy in (("zip", False), ("legacy", True)):
        buffer = io.BytesIO()
        torch.save(state, buffer, _use_new_zipfile_serialization=not legacy)
        out[name] = buffer.getvalue()
    return out


def reads_or_refuses(path) -> dict | None:
    try:
        obj = read_checkpoint(path)
    except CheckpointError as e:
        assert e.path == str(path) and e.problem and "\n" not in str(e)
        return None
    assert isinstance(obj, dict)
    return obj


@FAST
@given(data=st.binary(max_size=4096))
def test_random_bytes_never_crash(tmp_path, data):
    (tmp_path / "x.pt").write_bytes(data)
    reads_or_refuses(tmp_path / "x.pt")


@FAST
@given(fmt=st.sampled_from(["zip", "legacy"]), data=st.data())
def test_damaged_checkpoints_never_crash(tmp_path, good_bytes, fmt, data):
    """Truncated anywhere, or with bytes overwritten: loads (a dict) or one CheckpointError, nothing else."""
    blob = bytearray(good_bytes[fmt])
    for _ in range(data.draw(st.integers(0, 3))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(blob)))
    (tmp_path / "x.pt").write_bytes(bytes(blob[:cut]))
    obj = reads_or_refuses(tmp_path / "x.pt")
    if cut < len(blob) and fmt == "zip":
        assert obj is None  # a zip cut short has no central directory


@pytest.mark.parametrize("fraction", [0.02, 0.1, 0.2, 0.5, 0.99])
def test_a_zip_checkpoint_cut_short_is_named_so(tmp_path, good_bytes, fraction):
    """Wherever it is cut, one message: torch's own varies with the cut ('failed finding central directory',
    '[Errno 22] Invalid argument'), neither of which tells a user the file is incomplete."""
    blob = good_bytes["zip"]
    (tmp_path / "x.pt").write_bytes(blob[:int(len(blob) * fraction)])
    with pytest.raises(CheckpointError) as e:
        read_checkpoint(tmp_path / "x.pt")
    assert e.value.problem == "truncated checkpoint (a zip archive without its end: the file was cut short)"


def test_empty_missing_directory(tmp_path):
    """Each named exactly (the names are not the problems, so a message cannot pass by naming the file)."""
    (tmp_path / "a.pt").write_bytes(b"")
    (tmp_path / "b.pt").mkdir()
    for name, problem in (("a.pt", "is empty"), ("b.pt", "is a directory, expected a checkpoint file"),
                          ("c.pt", "no such file")):
        with pytest.raises(CheckpointError) as e:
            read_checkpoint(tmp_path / name)
        assert str(e.value) == f"{tmp_path / name}: {problem}"
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="holds a list"):
        read_checkpoint(tmp_path / "list.pt")


def test_a_checkpoint_of_another_format_version_is_refused_as_such(tmp_path):
    """Not read as an official file ("not a HiFi-GAN generator checkpoint") but named for what it is."""
    torch.save({"hifigan_checkpoint": 2, "config": tiny_config().to_dict(), "generator": {}}, tmp_path / "new.pt")
    with pytest.raises(CheckpointError, match="hifigan checkpoint format 2; this version reads format 1") as e:
        load_generator(tmp_path / "new.pt")
    assert e.value.path == str(tmp_path / "new.pt")


# ---------------------------------------------------------------- strict state loading
@pytest.fixture
def tiny_generator() -> Generator:
    torch.manual_seed(0)
    return Generator(tiny_config())


def test_load_state_strict_accepts_an_exact_fit(tiny_generator):
    torch.manual_seed(1)
    other = Generator(tiny_config()).state_dict()
    load_state_strict(tiny_generator, other, "g.pt", "generator")
    for key, value in tiny_generator.state_dict().items():
        assert torch.equal(value, other[key])


def test_load_state_strict_names_the_misfit(tiny_generator):
    state = tiny_generator.state_dict()
    key = next(iter(state))
    g, v = (f"conv_pre.parametrizations.weight.original{i}" for i in (0, 1))
    cases = {
        "missing key " + key: {k: v for k, v in state.items() if k != key},
        "unexpected key extra.weight": {**state, "extra.weight": torch.zeros(1)},
        f"upsample_initial_channel is 32, the weights take 3 ({key} (3,) vs {tuple(state[key].shape)})": {
            **state, key: torch.zeros(3)},
        f"{key} is not a tensor": {**state, key: [1.0]},
        # a weight norm's magnitude (out, 1, 1) and direction swapped: no config key to name (not num_mels)
        f"generator does not fit the config: {g} has shape (32, 16, 7), the model expects (32, 1, 1)": {
            **state, g: state[v], v: state[g]},
    }
    for problem, bad in cases.items():
        with pytest.raises(CheckpointError) as e:
            load_state_strict(tiny_generator, bad, "g.pt", "generator")
        assert problem in e.value.problem and e.value.path == "g.pt"
    with pytest.raises(CheckpointError, match="not a state dict"):
        load_state_strict(tiny_generator, [1, 2], "g.pt", "generator")


def test_other_config_names_key_and_shapes(tmp_path):
    wide = Generator(tiny_config(upsample_initial_channel=64)).state_dict()
    write_checkpoint(tmp_path / "g.pt", generator_payload(wide, tiny_config()))
    with pytest.raises(CheckpointError) as e:
        load_generator(tmp_path / "g.pt")
    assert "upsample_initial_channel is 32, the weights take 64 (conv_pre.bias (64,) vs (32,))" in e.value.problem


def test_load_generator_round_trip(tiny_checkpoint, tiny_cfg, official_tiny80):
    generator, cfg = load_generator(tiny_checkpoint)
    assert cfg == tiny_cfg
    stored = read_checkpoint(tiny_checkpoint)["generator"]
    assert all(torch.equal(v, stored[k]) for k, v in generator.state_dict().items())
    checkpoint, config_json = official_tiny80
    with pytest.raises(CheckpointError, match=r"pass config=\.\.\. "):
        load_generator(checkpoint)
    generator, cfg = load_generator(checkpoint, config_json)
    assert cfg.num_mels == 80
