"""An ONNX model file (`hifigan export -o NAME.onnx`) told apart from other non-checkpoints by its protobuf framing
alone: the onnx package is an optional extra, and a file given where a checkpoint goes should be named without it."""

from __future__ import annotations

import os
from typing import BinaryIO

IR_VERSION, GRAPH = 1, 7  # ModelProto's field numbers: every model has both
VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5  # protobuf wire types (3 and 4, the old groups, never occur in ONNX)


def _varint(f: BinaryIO) -> int | None:
    """The base-128 integer at the file's position (7 bits a byte, low first); None at the end or past 10 bytes."""
    value = 0
    for shift in range(0, 70, 7):
        byte = f.read(1)
        if not byte:
            return None
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
    return None


def is_onnx_model(path: str | os.PathLike) -> bool:
    """Whether `path` is a serialized ONNX ModelProto: it opens with its ir_version (serializers write fields in
    number order), holds a graph, and its top-level fields tile the file exactly. Fields are skipped, not read."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            if f.read(1) != bytes([IR_VERSION << 3 | VARINT]):
                return False
            f.seek(0)
            seen = set()
            while f.tell() < size:
                tag = _varint(f)
                if tag is None or tag >> 3 == 0:
                    return False
                wire = tag & 7
                if wire == VARINT:
                    if _varint(f) is None:
                        return False
                elif wire in (FIXED64, FIXED32):
                    f.seek(8 if wire == FIXED64 else 4, os.SEEK_CUR)
                elif wire == LENGTH:
                    length = _varint(f)
                    if length is None:
                        return False
                    f.seek(length, os.SEEK_CUR)
                else:
                    return False
                if f.tell() > size:
                    return False
                seen.add((tag >> 3, wire))
            return {(IR_VERSION, VARINT), (GRAPH, LENGTH)} <= seen
    except OSError:
        return False
