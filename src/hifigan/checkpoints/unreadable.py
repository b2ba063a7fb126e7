"""What a file that torch.load refuses is, in one line: no PyTorch file (an exported ONNX model, whole or cut
short), a TorchScript model, a zip of something else, a file cut short (a zip without its end, a pickle ending inside
its data or inside a name), one that needs pickled code (named), or corrupt. Read from its bytes, never executed."""

from __future__ import annotations

import io
import pickle
import pickletools
import re
from pathlib import Path

from hifigan.checkpoints.archive import is_torch_zip, is_torchscript_zip, is_zip
from hifigan.checkpoints.onnx_file import onnx_model_kind

NOT_TORCH = "not a checkpoint (neither a PyTorch file nor a binary pickle)"
# hifigan export's TorchScript output, often named like a checkpoint (generator.pt) and given back as one
TORCHSCRIPT = ("not a checkpoint (a TorchScript model, as hifigan export writes it: give the checkpoint it was "
               "exported from)")
# its ONNX output, the other format hifigan export writes (no pickle, no zip: a protobuf)
ONNX = ("not a checkpoint (an ONNX model, as hifigan export writes it: give the checkpoint it was exported from, or "
        "run this file with onnxruntime as docs/export.md shows)")
ONNX_CUT = ("not a checkpoint (an ONNX model, cut short: the file ends inside one of its fields; give the checkpoint "
            "it was exported from)")


ZIP_MAGIC = b"PK"  # torch >= 1.6 saves a zip
TORCH_MAGIC = (ZIP_MAGIC, b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")  # or a protocol 2+ pickle


def _head(path: Path) -> bytes:
    """The file's first two bytes, which TORCH_MAGIC names."""
    with open(path, "rb") as f:
        return f.read(2)


def _starts_like_torch(path: Path) -> bool:
    """A zip (torch >= 1.6) or a protocol 2+ pickle (legacy torch.save, plain pickles)."""
    return _head(path) in TORCH_MAGIC


def _not_torch(path: Path) -> str:
    """What a file that is no PyTorch file and no pickle is: an exported ONNX model (whole or cut short), or nothing
    we name."""
    return {"whole": ONNX, "cut": ONNX_CUT}.get(onnx_model_kind(path) or "", NOT_TORCH)


def load_failure(path: Path, e: BaseException) -> str:
    """Why torch.load failed on `path` with `e` (not by refusing a pickled global: unpickling_problem)."""
    head = _head(path)
    if head not in TORCH_MAGIC:
        return _not_torch(path)
    zipped = is_zip(path)
    if zipped and is_torchscript_zip(path):  # torch.load's weights_only refuses it in words about its own arguments
        return TORCHSCRIPT
    if zipped and not is_torch_zip(path):
        return "not a checkpoint (a zip archive that is not a PyTorch file)"
    if not zipped and head == ZIP_MAGIC:  # a zip's directory is at its end: what torch says varies with the cut
        return "truncated checkpoint (a zip archive without its end: the file was cut short)"
    if isinstance(e, MemoryError):
        return "truncated or corrupt checkpoint (claims more memory than is available)"
    if isinstance(e, EOFError) and not str(e):  # the unpickler ran out of bytes mid-opcode (a cut legacy file)
        return "truncated checkpoint (it ends inside its pickled data: the file was cut short)"
    return f"truncated or corrupt checkpoint ({_reason(e)})"


# The global torch's weights-only unpickler refused: one it does not allow ("Unsupported global: GLOBAL m.f"), or one
# of a module it never allows (os, posix, nt, sys: "unsupported GLOBAL posix.system whose module posix is blocked").
REFUSED_GLOBAL = re.compile(r"(?:Unsupported global: GLOBAL|unsupported GLOBAL) (\S+)")


def unpickling_problem(path: Path, e: pickle.UnpicklingError) -> str:
    """Why the weights-only unpickler refused `path`: it needs code (named), or it is no checkpoint at all."""
    needed = re.search(REFUSED_GLOBAL, str(e))
    binary = _starts_like_torch(path)
    if needed and binary and _ends_inside_global(path, needed.group(1)):
        return "truncated checkpoint (it ends inside a pickled name: the file was cut short)"
    code = needed.group(1) if needed and binary else _pickled_code(path)  # (text starting "c" parses as GLOBAL)
    if code:
        return f"refused: it needs pickled code ({code}) to load; only weights are loaded"
    if not binary:
        return _not_torch(path)
    detail = re.search(r"WeightsUnpickler error:\s*(\S.*)", str(e))
    return f"not a checkpoint (cannot be unpickled as weights: {_reason(ValueError(detail.group(1)) if detail else e)})"


def _ends_inside_global(path: Path, named: str) -> bool:
    """Whether `path` ends inside the GLOBAL opcode (c<module>\\n<name>\\n) whose name torch's unpickler refused as
    `named`: it reads each line with readline and drops its last byte, so a line cut by the end of the file comes
    back short of a character (a cut legacy file otherwise reads as needing code such as "colle.")."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        f.seek(max(0, size - len(named.encode()) - 3))
        tail = f.read()
    for start in (i for i, byte in enumerate(tail) if byte == ord("c")):
        lines = io.BytesIO(tail[start + 1:])
        module, name = lines.readline(), lines.readline()
        if not name.endswith(b"\n") and (module[:-1] + b"." + name[:-1]).decode(errors="replace") == named:
            return True
    return False


def _pickled_code(path: Path) -> str | None:
    """The class or function a plain pickle file would import (torch's own ones last), read from its opcodes
    without executing anything; None if it imports nothing or is not a pickle."""
    strings: list[str] = []
    found: list[str] = []
    with open(path, "rb") as f:
        protocol_2_plus = f.read(1) == b"\x80"
        f.seek(0)
        try:
            for opcode, arg, _ in pickletools.genops(f):
                if opcode.name == "GLOBAL":
                    found.append(str(arg).replace(" ", "."))
                elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:  # (a lone 0x93 also starts .npy files)
                    found.append(".".join(strings[-2:]))
                elif isinstance(arg, str):
                    strings.append(arg)
        except Exception:  # broken: keep what was read only if it clearly began as a pickle (PROTO opcode)
            if not protocol_2_plus:
                return None
    return next((name for name in found if not name.startswith("torch.")), found[0] if found else None)


def _reason(e: BaseException) -> str:
    """The first sentence of an exception's message (torch's run to paragraphs), with its type if terse."""
    text = str(e).strip().splitlines()[0].strip() if str(e).strip() else ""
    text = text.split(". ")[0].rstrip(".")
    if len(text) > 100:
        text = text[:97] + "..."
    return f"{type(e).__name__}: {text}" if len(text) < 12 else text
