"""write_skipped on its own: one line per skipped file whatever its name holds (a tab, a line break or a backslash
is escaped, so every line splits into path and reason and reads back to the name), and a list that cannot be written
is a warning, never the end of the scan."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.data.skipped_list import write_skipped

NAME = st.text(st.sampled_from("ab\t\n\\ é"), min_size=1, max_size=8)


def _unescape(field: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(field):
        if field[i:i + 1] == b"\\":
            out += {b"t": b"\t", b"n": b"\n", b"\\": b"\\"}[field[i + 1:i + 2]]
            i += 2
        else:
            out += field[i:i + 1]
            i += 1
    return bytes(out)


@settings(max_examples=40, deadline=None)
@given(names=st.lists(NAME, min_size=1, max_size=4), reason=NAME)
def test_every_row_is_one_line_that_reads_back_to_its_name_and_reason(tmp_path_factory, names, reason):
    target = tmp_path_factory.mktemp("run") / "skipped.tsv"
    rows = [(Path("/corpus") / name, reason) for name in names]
    write_skipped(target, rows)
    lines = target.read_bytes().split(b"\n")
    assert lines[0] == b"path\treason" and lines[-1] == b"" and len(lines) == len(rows) + 2
    for line, (path, why) in zip(lines[1:-1], rows):
        fields = line.split(b"\t")
        assert len(fields) == 2
        assert [_unescape(f) for f in fields] == [os.fsencode(path), why.encode()]


def test_a_list_that_cannot_be_written_is_a_warning(tmp_path):
    (tmp_path / "run").write_bytes(b"a file where the run folder should be")
    with pytest.warns(RuntimeWarning, match=r"^cannot write the list of skipped files .*skipped\.tsv"):
        write_skipped(tmp_path / "run" / "skipped.tsv", [(tmp_path / "a.wav", "is empty")])
