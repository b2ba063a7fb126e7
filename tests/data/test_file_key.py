"""file_key's names by string prefix are exactly pathlib's relative_to (the held-out draw and the resume digest hash
them: a changed name moves a clip across the split)."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.data.clip_names import file_key
from hifigan.data.scan_cache import cache_names


def pathlib_key(path: Path, root: Path) -> str:
    """The rule as pathlib states it (what file_key gave before its prefix rule)."""
    if path.is_absolute() != root.is_absolute():
        path, root = Path(os.path.abspath(path)), Path(os.path.abspath(root))
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()


def test_names_by_prefix_end_at_a_folder_boundary():
    assert file_key(Path("/c/spk1/a.wav"), Path("/c")) == "spk1/a.wav"
    assert file_key(Path("/c2/a.wav"), Path("/c")) == "/c2/a.wav"  # a sibling sharing the root's first letters
    assert file_key(Path("/c/a.wav"), Path("/")) == "c/a.wav"
    assert file_key(Path("wavs/a.wav"), Path(".")) == "wavs/a.wav"
    assert file_key(Path("wavs//./a.wav"), Path("wavs/")) == "a.wav"
    assert file_key(Path("../up/a.wav"), Path("..")) == "up/a.wav"
    assert file_key(Path("/c"), Path("/c")) == "."
    assert file_key(Path("//net/c/a.wav"), Path("//net")) == "c/a.wav"
    assert file_key(Path("//net/c/a.wav"), Path("/")) == "//net/c/a.wav"  # pathlib: "//" is not "/" (POSIX)


PART = st.sampled_from(["a", "ab", "b", "..", ".", "spk 1", "é", "a.wav", ""])


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["", "/", "//"]), st.lists(PART, max_size=4), st.sampled_from(["", "/", "//"]),
       st.lists(PART, max_size=3))
def test_every_name_is_pathlibs(path_lead, path_parts, root_lead, root_parts):
    path, root = Path(path_lead + "/".join(path_parts) or "."), Path(root_lead + "/".join(root_parts) or ".")
    assert file_key(path, root) == pathlib_key(path, root)


def relpath_name(path: str, root: str) -> str:
    """A scan cache's name as os.path.relpath gives it (what cache_names gave before its prefix rule)."""
    full = os.path.abspath(path)
    inside = os.path.relpath(full, os.path.abspath(root))
    return full if inside == os.pardir or inside.startswith(os.pardir + os.sep) else inside


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["", "/", "//"]), st.lists(PART, max_size=4), st.sampled_from(["", "/", "//"]),
       st.lists(PART, max_size=3))
def test_every_cache_name_is_relpaths(path_lead, path_parts, root_lead, root_parts):
    path, root = path_lead + "/".join(path_parts) or ".", root_lead + "/".join(root_parts) or "."
    assert cache_names([Path(path)], Path(root)) == [relpath_name(path, root)]
