"""Part of one of our checkpoints read without the rest: a vocoder needs the generator and its config, not a training
checkpoint's discriminators and optimizer moments (~1 GB beside V1's 55 MB generator). The file's structure is read
first without any tensor data (torch.load onto the meta device), which tells the zip records the part's tensors are
stored in; only those are checked against their CRC-32, and torch.load maps the file (mmap) so that the bytes of
the tensors left out are never read. Any other file is checked and read whole."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

from hifigan.checkpoints.archive import is_data_record, is_zip, records_by_offset

Check = Callable[[Path, Callable[[str], bool]], None]  # raises where one of the records it is told to check is damaged


def read_part(path: Path, keys: tuple[str, ...], ours: Callable[[dict[str, Any]], bool], check: Check) -> Any:
    """The `keys` of the checkpoint at `path` where it is one of ours (`ours`), in a zip only their tensors' records
    checked (`check`) and read; any other file whole, every data record checked. `check` has seen every other record
    (the pickle and metadata) before: the structure is read from them."""
    if not is_zip(path):  # a legacy torch file: no records, no checksums, no mmap
        return _part(torch.load(path, map_location="cpu", weights_only=True), keys, ours)
    structure = torch.load(path, map_location="meta", weights_only=True)
    records = part_records(path, structure, keys) if isinstance(structure, dict) and ours(structure) else None
    if records is None:
        check(path, is_data_record)
        return _part(torch.load(path, map_location="cpu", weights_only=True), keys, ours)
    check(path, records.__contains__)
    return _part(torch.load(path, map_location="cpu", weights_only=True, mmap=True), keys, ours)


def _part(obj: Any, keys: tuple[str, ...], ours: Callable[[dict[str, Any]], bool]) -> Any:
    """The `keys` of `obj` where it is one of ours; else `obj`."""
    return {key: obj[key] for key in keys if key in obj} if isinstance(obj, dict) and ours(obj) else obj


def part_records(path: Path, structure: dict[str, Any], keys: tuple[str, ...]) -> set[str] | None:
    """The names of the records that hold the tensors under `keys` of `structure` (the file's contents on the meta
    device, each storage knowing its offset in the file); None where one cannot be told for certain (torch without
    storage offsets, a compressed record, a record of another size, a local header that does not read): then every
    record is checked."""
    stored = records_by_offset(path)
    names = set()
    for tensor in _tensors([structure[key] for key in keys if key in structure]):
        storage = tensor.untyped_storage()
        record = stored.get(getattr(storage, "_checkpoint_offset", None))  # type: ignore[arg-type]
        if record is None or record.compress_type != zipfile.ZIP_STORED or record.file_size != storage.nbytes():
            return None
        names.add(record.filename)
    return names


def _tensors(value: Any) -> Iterator[torch.Tensor]:
    """Every tensor in nested dicts, lists and tuples."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _tensors(item)
