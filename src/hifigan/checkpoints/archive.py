"""The zip container of a PyTorch (>= 1.6) checkpoint: torch.load trusts its bytes, so damaged tensor data would load
as garbage (NaN weights, silent); the CRC-32 that each zip record carries catches that before anything is used."""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

CHUNK = 1 << 20  # records are streamed: a check never holds a second copy of the file in memory
LOCAL_HEADER = struct.Struct("<4s22xHH")  # a record's local header: signature, ..., name and extra field lengths


def is_zip(path: Path) -> bool:
    """Whether `path` has a readable zip directory (torch's format; legacy torch.save files are plain pickles)."""
    return zipfile.is_zipfile(path)


def is_torch_zip(path: Path) -> bool:
    """A zip holding a PyTorch pickle record (<archive>/data.pkl): a plain .zip or .npz holds none."""
    return _holds_record(path, "data.pkl")


def is_torchscript_zip(path: Path) -> bool:
    """A TorchScript archive (torch.jit.save, `hifigan export -o NAME.pt`): beside its data.pkl, the constants.pkl of
    its code, which no torch.save checkpoint holds."""
    return _holds_record(path, "constants.pkl")


def _holds_record(path: Path, record: str) -> bool:
    """Whether the zip at `path` holds `record` at its top or in its one archive folder (<archive>/`record`); False
    for a file that is no readable zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name == record or name.endswith(f"/{record}") for name in archive.namelist())
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def is_data_record(name: str) -> bool:
    """Whether the record `name` holds one tensor storage's bytes (<archive>/data/<key>), not the pickle or metadata."""
    parts = name.split("/")
    return len(parts) >= 2 and parts[-2] == "data"


def records_by_offset(path: Path) -> dict[int, zipfile.ZipInfo]:
    """Each record by the file offset of its first data byte (after its local header: where torch reads a tensor's
    bytes); a record whose local header does not read is left out."""
    found = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as f:
        for info in archive.infolist():
            f.seek(info.header_offset)
            header = f.read(LOCAL_HEADER.size)
            if len(header) == LOCAL_HEADER.size:
                magic, name_length, extra_length = LOCAL_HEADER.unpack(header)
                if magic == b"PK\x03\x04":
                    found[info.header_offset + LOCAL_HEADER.size + name_length + extra_length] = info
    return found


def damaged_record(path: Path, checked: Callable[[str], bool] | None = None) -> str | None:
    """Why a zip checkpoint's bytes are damaged (the first record whose data fails its CRC-32 or does not read), or
    None where every record checks or the file is no zip (a legacy torch file carries no checksum). `checked`: which
    records (by name) to check; all by default. The zip directory is read once, by the check itself."""
    name = None
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if checked is not None and not checked(info.filename):
                    continue
                name = info.filename
                with archive.open(info) as record:
                    while record.read(CHUNK):
                        pass
    except zipfile.BadZipFile as e:
        if name is None and not is_zip(path):  # no zip directory at all (only here: the failure path reads it again)
            return None
        if "CRC" in str(e) and name is not None:
            return f"record {name} fails its CRC-32 check: damaged bytes"
        return f"record {name}: {e}" if name is not None else str(e)
    except (EOFError, zlib.error, ValueError, NotImplementedError) as e:
        return f"record {name} does not read: {e or type(e).__name__}"
    return None
