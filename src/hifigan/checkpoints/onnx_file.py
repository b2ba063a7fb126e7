"""An ONNX model file (`hifigan export -o NAME.onnx`), whole or cut short, told apart from other non-checkpoints by
its protobuf framing alone: the onnx package is an optional extra, and a file given where a checkpoint goes should be
named without it."""

from __future__ import annotations

import os
from typing import BinaryIO

IR_VERSION, GRAPH = 1, 7  # ModelProto's field numbers: every model has both
VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5  # protobuf wire types (3 and 4, the old groups, never occur in ONNX)
# ModelProto's fields (onnx.proto) and their wire types: ir_version and model_version are integers, the rest strings
# or messages (producer_name 2, producer_version 3, domain 4, doc_string 6, graph 7, opset_import 8,
# metadata_props 14, training_info 20, functions 25, configuration 26)
MODEL_FIELDS = {IR_VERSION: VARINT, 5: VARINT, **dict.fromkeys((2, 3, 4, 6, GRAPH, 8, 14, 20, 25, 26), LENGTH)}
MAX_IR_VERSION = 100  # ONNX is at 11: a larger first integer is no ir_version


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


def _framing(f: BinaryIO, size: int) -> tuple[list[tuple[int, int, int | None]], str]:
    """The file's top-level protobuf fields as (number, wire type, the integer of a VARINT), skipped, not read, and
    how the walk ended: "end" (exactly at the file's end), "cut" (the file ends inside the last field listed, or
    inside a tag) or "bad" (no protobuf framing)."""
    fields: list[tuple[int, int, int | None]] = []
    while f.tell() < size:
        tag = _varint(f)
        if tag is None:
            return fields, "cut" if f.tell() >= size else "bad"
        number, wire = tag >> 3, tag & 7
        if number == 0 or wire not in (VARINT, FIXED64, LENGTH, FIXED32):
            return fields, "bad"
        value = None
        if wire in (VARINT, LENGTH):
            value = _varint(f)
            if value is None:
                return [*fields, (number, wire, None)], "cut" if f.tell() >= size else "bad"
            if wire == LENGTH:
                f.seek(value, os.SEEK_CUR)
        else:
            f.seek(8 if wire == FIXED64 else 4, os.SEEK_CUR)
        fields.append((number, wire, value if wire == VARINT else None))
        if f.tell() > size:
            return fields, "cut"
    return fields, "end"


def onnx_model_kind(path: str | os.PathLike) -> str | None:
    """"whole" where `path` is a serialized ONNX ModelProto: it opens with its ir_version (serializers write fields
    in number order), holds a graph, and its top-level fields tile the file exactly. "cut" where it is one cut short
    (a partial download or copy): its ir_version first, then only ModelProto's fields, of their wire types and in
    number order, the last of which runs past the file's end (the stricter test of the two: the end of the file no
    longer confirms the framing). Else None."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            if f.read(1) != bytes([IR_VERSION << 3 | VARINT]):
                return None
            f.seek(0)
            fields, ended = _framing(f, size)
    except OSError:
        return None
    if ended == "end":
        return "whole" if {(IR_VERSION, VARINT), (GRAPH, LENGTH)} <= {field[:2] for field in fields} else None
    if ended != "cut" or len(fields) < 2 or not 1 <= (fields[0][2] or 0) <= MAX_IR_VERSION:
        return None
    numbers = [number for number, _, _ in fields]
    in_order = numbers == sorted(numbers)
    return "cut" if in_order and all(MODEL_FIELDS.get(number) == wire for number, wire, _ in fields) else None
