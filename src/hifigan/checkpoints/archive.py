"""The zip container of a PyTorch (>= 1.6) checkpoint: torch.load trusts its bytes, so damaged tensor data would load
as garbage (NaN weights, silent); the CRC-32 that each zip record carries catches that before anything is used."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

CHUNK = 1 << 20  # records are streamed: a check never holds a second copy of the file in memory


def is_zip(path: Path) -> bool:
    """Whether `path` has a readable zip directory (torch's format; legacy torch.save files are plain pickles)."""
    return zipfile.is_zipfile(path)


def is_torch_zip(path: Path) -> bool:
    """A zip holding a PyTorch pickle record (<archive>/data.pkl): a plain .zip or .npz holds none."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name == "data.pkl" or name.endswith("/data.pkl") for name in archive.namelist())
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def is_torchscript_zip(path: Path) -> bool:
    """A TorchScript archive (torch.jit.save, `hifigan export -o NAME.pt`): beside its data.pkl, the constants.pkl of
    its code, which no torch.save checkpoint holds."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name == "constants.pkl" or name.endswith("/constants.pkl") for name in archive.namelist())
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def damaged_record(path: Path) -> str | None:
    """Why a zip checkpoint's bytes are damaged (the first record whose data fails its CRC-32 or does not read), or
    None where every record checks or the file is no zip (a legacy torch file carries no checksum). The zip
    directory is read once, by the check itself."""
    name = None
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
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
