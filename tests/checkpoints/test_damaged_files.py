"""Damaged or mistaken checkpoint files are one CheckpointError naming the file and what is wrong: bytes that fail a
zip record's CRC-32 (torch.load alone would load them as NaN weights), a zip that is no PyTorch file, a stored
config that is not a dict, a legacy (non-zip) file cut short inside a pickled name, an exported TorchScript or ONNX
file."""

from __future__ import annotations

import collections
import zipfile

import numpy as np
import pytest
import torch

from hifigan.checkpoints.contents import load_generator
from hifigan.checkpoints.format import generator_payload, read_checkpoint, write_checkpoint
from hifigan.errors import CheckpointError
from hifigan.models import Generator
from tests.support.files import damage_tensor_bytes, repack_deflated
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


def _damage_zip_structure(path, where):
    """Overwrite bytes of the zip's own structure (not of a record's data), as a bad copy could; the record named."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    if where == "a record's header":
        record = infos[1]
        data[record.header_offset:record.header_offset + 4] = b"XXXX"
    elif where == "the zip directory":
        record = None
        at = data.index(b"PK\x01\x02")
        data[at:at + 4] = b"XXXX"
    else:  # compressed bytes damaged: the record's deflate stream is no longer one
        repack_deflated(path)
        assert "generator" in read_checkpoint(path)  # undamaged, the repacked file loads
        data = bytearray(path.read_bytes())
        with zipfile.ZipFile(path) as archive:
            record = max(archive.infolist(), key=lambda info: info.compress_size)
        start = record.header_offset + 30 + len(record.filename.encode()) + len(record.extra)
        data[start + 5:start + 10] = bytes(b ^ 0xFF for b in data[start + 5:start + 10])
    path.write_bytes(bytes(data))
    return record.filename if record is not None else None


@pytest.mark.parametrize(("where", "problem"), [
    ("a record's header", "record {}: Bad magic number for file header"),
    ("the zip directory", "Bad magic number for central directory"),
    ("a deflated record", "record {} does not read: Error -3 while decompressing data: invalid code lengths set"),
])
def test_a_damaged_zip_structure_is_a_corrupt_checkpoint_naming_what_broke(tiny_file, where, problem):
    """Damage to the zip around the records (a header, the directory, a compressed stream) is one line, never
    torch's own error or a traceback: the same whether the file is read whole or only its generator part."""
    record = _damage_zip_structure(tiny_file, where)
    said = f"truncated or corrupt checkpoint ({problem.format(record)})"
    for read in (read_checkpoint, load_generator):
        with pytest.raises(CheckpointError) as e:
            read(tiny_file)
        assert (e.value.path, e.value.problem) == (str(tiny_file), said)


@pytest.mark.parametrize(("opcode", "kept"), [
    (b"ccollections\nOrderedDict\n", 1),  # just after the GLOBAL opcode
    (b"ccollections\nOrderedDict\n", 6),  # within the module line ("coll.", as torch reads it)
    (b"ccollections\nOrderedDict\n", 13),  # just after the module line
    (b"ccollections\nOrderedDict\n", 20),  # within the class name
    (b"ctorch._utils\n_rebuild_tensor_v2\n", 27),  # within the tensor rebuilder's name
])
def test_a_legacy_file_cut_inside_a_pickled_name_is_truncated_not_code(tmp_path, opcode, kept):
    path = tmp_path / "old.pt"
    torch.save({"generator": collections.OrderedDict(w=torch.ones(3))}, path, _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    path.write_bytes(data[:data.index(opcode) + kept])
    with pytest.raises(CheckpointError) as e:
        read_checkpoint(path)
    assert e.value.problem == "truncated checkpoint (it ends inside a pickled name: the file was cut short)"


@pytest.mark.parametrize("kept", [2, 11, 41])
def test_a_legacy_file_cut_inside_its_pickle_says_so_in_words(tmp_path, kept):
    """The unpickler's bare EOFError (no message) becomes a sentence, not 'EOFError: '."""
    path = tmp_path / "old.pt"
    torch.save({"generator": collections.OrderedDict(w=torch.ones(3))}, path, _use_new_zipfile_serialization=False)
    path.write_bytes(path.read_bytes()[:kept])
    with pytest.raises(CheckpointError) as e:
        read_checkpoint(path)
    assert e.value.problem == "truncated checkpoint (it ends inside its pickled data: the file was cut short)"


@pytest.mark.parametrize("fmt, name, what", [
    ("torchscript", "generator.pt", "a TorchScript model, as hifigan export writes it: give the checkpoint it was "
                                    "exported from"),
    ("onnx", "model.onnx", "an ONNX model, as hifigan export writes it: give the checkpoint it was exported from, or "
                           "run this file with onnxruntime as docs/export.md shows"),
])
def test_an_exported_file_is_named_as_what_it_is(tmp_path, fmt, name, what):
    """`hifigan export -o generator.pt` (TorchScript under a checkpoint's suffix) or `-o model.onnx`, given back as -c
    (vocode, export, serve, --init-from): was 'truncated or corrupt' in torch's words about weights_only, and 'neither
    a PyTorch file nor a binary pickle' (true, but it left the user guessing); the ONNX file is recognised by its
    protobuf framing (no onnx package needed)."""
    from hifigan.inference.export import export_generator

    config = tiny_config()
    path = tmp_path / name
    export_generator(Generator(config), fmt, path, config=config)
    with pytest.raises(CheckpointError) as e:
        load_generator(path)
    assert (e.value.path, e.value.problem) == (str(path), f"not a checkpoint ({what})")


@pytest.mark.parametrize("data", [
    b"\x08\x08\x12\x07pytorch",  # an ONNX model's first fields, but no graph
    b"\x08\x08:\x00\x12\x10pyt",  # cut in a producer_name written after the graph: out of ModelProto's order
    b"\x08\x08\x7a\x10pyt",  # cut in a field 15, which ModelProto does not have
    b"\x08\xe5\x01:\x10\n\x03mel",  # a first integer (229) that is no ir_version, then a field cut short
    b"\x08",  # cut inside its first integer: nothing of an ONNX file read whole
    b"\x08\x08:\x00\x0b",  # then a field of wire type 3 (a group), which ONNX never holds
    b"\x08 text that opens with a backspace",
])
def test_a_file_framed_only_partly_like_onnx_is_no_pytorch_file(tmp_path, data):
    path = tmp_path / "x.pt"
    path.write_bytes(data)
    with pytest.raises(CheckpointError) as e:
        read_checkpoint(path)
    assert e.value.problem == "not a checkpoint (neither a PyTorch file nor a binary pickle)"


@pytest.fixture(scope="module")
def exported_onnx(tmp_path_factory) -> bytes:
    from hifigan.inference.export import export_generator

    config = tiny_config()
    path = tmp_path_factory.mktemp("onnx") / "model.onnx"
    torch.manual_seed(0)
    export_generator(Generator(config), "onnx", path, config=config)
    return path.read_bytes()


@pytest.mark.parametrize("kept", [3, 0.3, 0.9, -1])
def test_an_onnx_model_cut_short_is_named_as_one(tmp_path, exported_onnx, kept):
    """A partial download or copy of an exported model: its fields parse until the file ends inside one (in its
    first fields, in its graph, one byte short), and it is said to be cut short, not 'neither a PyTorch file nor a
    binary pickle'."""
    size = len(exported_onnx)
    cut = kept if isinstance(kept, int) and kept > 0 else size - 1 if kept == -1 else int(size * kept)
    path = tmp_path / "model.onnx"
    path.write_bytes(exported_onnx[:cut])
    with pytest.raises(CheckpointError) as e:
        read_checkpoint(path)
    assert e.value.problem == ("not a checkpoint (an ONNX model, cut short: the file ends inside one of its fields; "
                               "give the checkpoint it was exported from)")
