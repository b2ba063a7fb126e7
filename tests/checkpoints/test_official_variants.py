"""Official-style generator files in the shapes users bring: saved from a DataParallel wrapper ('module.' on every
key) or a torch.compile'd model ('_orig_mod.'), re-saved with torch's parametrized weight norm, or a do_* file given
where a g_* file is wanted."""

from __future__ import annotations

import pytest
import torch

from hifigan.checkpoints.contents import CheckpointContents, load_generator
from hifigan.checkpoints.official import official_to_ours
from hifigan.errors import CheckpointError
from tests.support.official_files import official_discriminator_file, official_tiny_files


@pytest.fixture
def official(tmp_path):
    """(config, g_ file, its {'generator': state} dict)."""
    cfg, path, _ = official_tiny_files(tmp_path)
    return cfg, path, torch.load(path, weights_only=True)


def _same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_data_parallel_g_file_loads_as_the_plain_one(official, tmp_path):
    cfg, path, obj = official
    torch.save({"generator": {"module." + k: v for k, v in obj["generator"].items()}}, tmp_path / "g_dp")
    wanted = load_generator(path, cfg)[0].state_dict()
    assert _same_weights(load_generator(tmp_path / "g_dp", cfg)[0].state_dict(), wanted)


@pytest.mark.parametrize("prefix", ["_orig_mod.", "module._orig_mod.", "_orig_mod.module."])
def test_a_g_file_of_a_compiled_generator_loads_as_the_plain_one(official, tmp_path, prefix):
    """torch.compile's wrapper keeps the model as `_orig_mod`: its state_dict prefixes every key so, nested with
    DataParallel's 'module.' in either order where both wrap it."""
    cfg, path, obj = official
    torch.save({"generator": {prefix + k: v for k, v in obj["generator"].items()}}, tmp_path / "g_compiled")
    wanted = load_generator(path, cfg)[0].state_dict()
    assert _same_weights(load_generator(tmp_path / "g_compiled", cfg)[0].state_dict(), wanted)


def test_the_prefix_stays_unless_every_key_has_it(official):
    _, _, obj = official
    state = dict(obj["generator"])
    first = next(iter(state))
    state["module." + first] = state.pop(first)
    assert "module." + first in official_to_ours(state)


def test_a_g_file_with_parametrization_keys_loads(official, tmp_path):
    cfg, path, obj = official
    torch.save({"generator": official_to_ours(obj["generator"])}, tmp_path / "g_param")
    wanted = load_generator(path, cfg)[0].state_dict()
    assert _same_weights(load_generator(tmp_path / "g_param", cfg)[0].state_dict(), wanted)


def test_a_do_file_given_for_the_generator_points_to_its_g_file(official, tmp_path):
    cfg, path, obj = official
    do = path.with_name("do_00000010")
    torch.save(official_discriminator_file(obj["generator"], cfg, steps=10, epoch=1), do)
    with pytest.raises(CheckpointError) as e:
        CheckpointContents.read(do).generator_state()
    assert e.value.path == str(do)
    assert e.value.problem == ("an official do_* file (discriminators and optimizer states), not a generator: give "
                               f"the g_* file of the same step ({path}, beside it)")
