"""Files reached through a linked folder (the folder a symlink, the files in it plain) are the files of the folder it
links to: real_paths resolves the folder, so repeats finds them and drop_repeats keeps the first path of each; the
warning counts every path dropped (two more paths to one file are two)."""

from __future__ import annotations

import os

import pytest

from hifigan.data.real_files import drop_repeats, real_paths, repeats


def test_a_linked_folder_resolves_to_its_target_and_its_files_repeat_the_targets(tmp_path):
    (tmp_path / "real").mkdir()
    for name in ("a.wav", "b.wav", "c.wav"):
        (tmp_path / "real" / name).write_bytes(b"x")
    (tmp_path / "real" / "aa.wav").symlink_to(tmp_path / "real" / "a.wav")  # a third path to a.wav
    (tmp_path / "linked").symlink_to(tmp_path / "real", target_is_directory=True)
    files = [tmp_path / "linked" / "a.wav", tmp_path / "linked" / "c.wav", tmp_path / "real" / "a.wav",
             tmp_path / "real" / "aa.wav", tmp_path / "real" / "b.wav", tmp_path / "real" / "c.wav"]
    assert real_paths(files) == [os.path.realpath(f) for f in files]
    assert repeats(files) == [(2, 0), (3, 0), (5, 1)]
    with pytest.warns(UserWarning, match=rf"3 audio files are other paths .* \(e\.g\. {tmp_path}/real/a\.wav is "
                                         rf"{tmp_path}/linked/a\.wav\)$"):
        kept = drop_repeats(files, tmp_path)
    assert kept == [*files[:2], tmp_path / "real" / "b.wav"]
