"""Of one of our training checkpoints, a generator's load (load_generator: vocode, export, serve,
Vocoder.from_checkpoint) checks and reads only the zip records of the generator's tensors (checkpoints.part_read);
the whole read (--resume's) still checks every record. Files that cannot be read in part (a legacy torch file, a
repacked zip whose records are compressed) are read whole, as before. Real training payloads of the tiny config."""

from __future__ import annotations

import zipfile

import pytest
import torch

from hifigan.checkpoints.contents import load_generator
from hifigan.checkpoints.format import GENERATOR_PART, generator_payload, read_checkpoint, write_checkpoint
from hifigan.checkpoints.part_read import part_records
from hifigan.errors import CheckpointError
from hifigan.training.state import new_state
from tests.support.files import damage_tensor_bytes, equal_states, repack_deflated
from tests.support.reads import PROC_IO, reads_of_the_extra_bytes
from tests.support.tiny import tiny_config

CRC = "truncated or corrupt checkpoint (record {} fails its CRC-32 check: damaged bytes)"


@pytest.fixture
def training_file(tmp_path):
    """A training checkpoint (tiny generator, narrow MPD and MSD, both optimizers' moments) and its generator's
    state."""
    torch.manual_seed(0)
    state = new_state(tiny_config(), torch.device("cpu"))
    for optim in (state.optim_g, state.optim_d):
        for group in optim.param_groups:
            for p in group["params"]:
                optim.state[p] = {"step": torch.tensor(1.0), "exp_avg": torch.randn_like(p),
                                  "exp_avg_sq": torch.rand_like(p)}
    path = tmp_path / "ckpt_00000001.pt"
    write_checkpoint(path, state.payload())
    return path, state.generator.state_dict()


def generator_records(path, generator):
    """torch.save stores tensors in the order it meets them: the generator's (the first tensors of our payload, one
    storage each) are data/0 .. data/N-1."""
    prefix = zipfile.ZipFile(path).namelist()[0].split("/")[0]
    return {f"{prefix}/data/{i}" for i in range(len(generator))}


def test_the_part_is_the_generator_and_config_from_the_generator_records(training_file):
    path, generator = training_file
    structure = torch.load(path, map_location="meta", weights_only=True)
    assert part_records(path, structure, GENERATOR_PART) == generator_records(path, generator)
    part = read_checkpoint(path, GENERATOR_PART)
    assert list(part) == list(GENERATOR_PART)
    assert equal_states(part["generator"], generator)
    assert part["config"] == read_checkpoint(path)["config"]


@pytest.mark.skipif(not PROC_IO.exists(), reason="needs Linux's /proc/self/io")
def test_a_generator_load_reads_no_byte_of_the_other_records(tmp_path, training_file):
    """The discriminators' moments grown by 1 MiB: a generator's load reads none of those bytes (it read them twice,
    the CRC-32 check's pass and torch.load's), while the whole read reads them twice still."""
    whole = read_checkpoint(training_file[0])
    short, long = tmp_path / "short.pt", tmp_path / "long.pt"
    write_checkpoint(short, whole)
    moments = {**whole["optim_d"]["state"], len(whole["optim_d"]["state"]): {"exp_avg": torch.randn(1 << 18)}}
    write_checkpoint(long, {**whole, "optim_d": {**whole["optim_d"], "state": moments}})
    assert reads_of_the_extra_bytes(lambda path: load_generator(path) and 0, short, long) < 0.01
    assert reads_of_the_extra_bytes(lambda path: read_checkpoint(path) and 0, short, long) == pytest.approx(2, abs=0.01)


def test_damage_outside_the_generator_loads_it_while_the_whole_read_refuses(training_file):
    """The damage a CRC-32 catches in a discriminator's or an optimizer's record does not matter to a vocoder; it
    does to --resume, which reads the file whole."""
    path, generator = training_file
    record = damage_tensor_bytes(path)  # the largest record: a discriminator's or a moment's
    assert record not in generator_records(path, generator)
    loaded, _ = load_generator(path)
    assert equal_states(loaded.state_dict(), generator)
    with pytest.raises(CheckpointError) as e:
        read_checkpoint(path)
    assert (e.value.path, e.value.problem) == (str(path), CRC.format(record))


def test_damage_inside_the_generator_is_refused_naming_its_record(training_file):
    path, generator = training_file
    largest = max(generator, key=lambda k: generator[k].numel())
    record = sorted(generator_records(path, generator), key=lambda n: int(n.rsplit("/", 1)[1]))[
        list(generator).index(largest)]
    assert damage_tensor_bytes(path, record=record) == record
    with pytest.raises(CheckpointError) as e:
        load_generator(path)
    assert (e.value.path, e.value.problem) == (str(path), CRC.format(record))


@pytest.mark.parametrize("where", ["the pickle", "a generator record's header"])
def test_damage_to_the_pickle_or_a_generator_header_is_refused_naming_it(training_file, where):
    """The structure is read from the pickle, checked first; a generator record whose local header does not read
    is not told from the zip's offsets, so the file is checked whole and the damage named as the whole read names
    it."""
    path, generator = training_file
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.infolist()[0] if where == "the pickle" else archive.getinfo(min(generator_records(path,
                                                                                                      generator)))
    if where == "the pickle":
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
        data[start + 100:start + 104] = bytes(b ^ 0xFF for b in data[start + 100:start + 104])
        said = CRC.format(info.filename)
    else:
        data[info.header_offset:info.header_offset + 4] = b"XXXX"
        said = f"truncated or corrupt checkpoint (record {info.filename}: Bad magic number for file header)"
    path.write_bytes(bytes(data))
    assert info.filename.endswith("data.pkl") == (where == "the pickle")
    with pytest.raises(CheckpointError) as e:
        load_generator(path)
    assert (e.value.path, e.value.problem) == (str(path), said)


@pytest.mark.parametrize("kind", ["legacy", "deflated"])
def test_a_file_that_cannot_be_read_in_part_is_read_whole(training_file, kind):
    """A legacy (non-zip) torch file has no records to map; a zip tool's repack compresses them (no offsets a map
    could read): both load whole, exactly."""
    path, generator = training_file
    whole = read_checkpoint(path)
    if kind == "legacy":
        torch.save(whole, path, _use_new_zipfile_serialization=False)
    else:
        repack_deflated(path)
        structure = torch.load(path, map_location="meta", weights_only=True)
        assert part_records(path, structure, GENERATOR_PART) is None
    assert equal_states(read_checkpoint(path, GENERATOR_PART), {key: whole[key] for key in GENERATOR_PART})
    loaded, _ = load_generator(path)
    assert equal_states(loaded.state_dict(), generator)


def test_a_compressed_record_is_never_mapped(tmp_path):
    """A generator of one tensor in a repacked (deflated) file: torch finds the first record's data by its real
    offset, which the zip's offsets confirm, but its bytes are compressed: mapped, they would load as garbage."""
    path = tmp_path / "one.pt"
    write_checkpoint(path, generator_payload({"w": torch.arange(1000.0)}, tiny_config(), mpd={"w": torch.ones(9)}))
    repack_deflated(path)
    structure = torch.load(path, map_location="meta", weights_only=True)
    assert part_records(path, structure, GENERATOR_PART) is None
    assert torch.equal(read_checkpoint(path, GENERATOR_PART)["generator"]["w"], torch.arange(1000.0))
