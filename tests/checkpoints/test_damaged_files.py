"""Damaged or mistaken checkpoint files are one CheckpointError naming the file and what is wrong: bytes that fail a
zip record's CRC-32 (torch.load alone would load them as NaN weights), a zip that is no PyTorch file, a stored
config that is not a dict."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import torch

from hifigan.checkpoints.contents import load_generator
from hifigan.checkpoints.format import generator_payload, read_checkpoint, write_checkpoint
from hifigan.errors import CheckpointError
from hifigan.models import Generator
from tests.support.files import damage_tensor_bytes
from tests.support.tiny import tiny_config


@pytest.fixture
def tiny_file(tmp_path):
    torch.manual_seed(0)
    config = tiny_config()
    path = tmp_path / "g.pt"
    write_checkpoint(path, generator_payload(Generator(config).state_dict(), config))
    return path


@pytest.mark.parametrize("official", [False, True])
def test_damaged_tensor_bytes_are_a_corrupt_checkpoint_naming_the_record(tiny_file, official):
    if official:  # an official g_* dict: {'generator': weight_g / weight_v state}
        from hifigan.checkpoints.official import official_generator_dict

        torch.save(official_generator_dict(read_checkpoint(tiny_file)["generator"]), tiny_file)
    record = damage_tensor_bytes(tiny_file)
    assert zipfile.ZipFile(tiny_file).testzip() == record
    with pytest.raises(CheckpointError) as e:
        read_checkpoint(tiny_file)
    assert e.value.path == str(tiny_file)
    assert e.value.problem == f"truncated or corrupt checkpoint (record {record} fails its CRC-32 check: damaged bytes)"


def test_a_legacy_file_without_checksums_still_loads(tmp_path):
    torch.save({"generator": {"w": torch.ones(3)}}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    assert torch.equal(read_checkpoint(tmp_path / "old.pt")["generator"]["w"], torch.ones(3))


@pytest.mark.parametrize("kind", ["zip", "npz"])
def test_a_zip_that_is_no_pytorch_file_is_named_so(tmp_path, kind):
    path = tmp_path / f"x.{kind}"
    if kind == "npz":
        with open(path, "wb") as f:
            np.savez(f, a=np.zeros(3))
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("readme.txt", "hello")
    with pytest.raises(CheckpointError) as e:
        read_checkpoint(path)
    assert e.value.problem == "not a checkpoint (a zip archive that is not a PyTorch file)"


def test_a_stored_config_that_is_not_a_dict_is_invalid(tiny_file):
    obj = read_checkpoint(tiny_file)
    write_checkpoint(tiny_file, {**obj, "config": "v1"})
    with pytest.raises(CheckpointError) as e:
        load_generator(tiny_file)
    assert e.value.problem == "stored config is invalid: a str, expected a dict of config keys"
