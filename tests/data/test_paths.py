"""hifigan.files.paths: the one check of a named file or folder, its exact one-line messages and error types.

Every reader goes through it (audio, mel, the vocode inputs, corpus and evaluation folders); the CLI error tests
(test_cli_errors.py, test_evaluate.py, test_data.py) check the same failures end to end.
"""

from __future__ import annotations

import os

import pytest

from hifigan.errors import AudioError, HifiganError, MelError
from hifigan.files.paths import require_file, require_folder


@pytest.mark.parametrize("error", [HifiganError, AudioError, MelError])
def test_require_file_names_the_path_and_the_problem(tmp_path, error):
    (tmp_path / "dir.wav").mkdir()
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "one.wav").write_bytes(b"x")
    expected = {
        "missing.wav": "no such file",
        "dir.wav": "is a directory, expected an audio file",
        "empty.wav": "is empty (0 bytes), expected an audio file",
    }
    for name, problem in expected.items():
        with pytest.raises(HifiganError) as caught:
            require_file(tmp_path / name, "an audio file", error)
        assert type(caught.value) is error
        assert str(caught.value) == f"{tmp_path / name}: {problem}"
        assert "\n" not in str(caught.value)
    assert require_file(os.fspath(tmp_path / "one.wav"), "an audio file", error) == tmp_path / "one.wav"
    with pytest.raises(error, match=r"missing.wav: no such config file \(built-in names: v1\)$"):
        require_file(tmp_path / "missing.wav", "a config", error, missing="no such config file (built-in names: v1)")


def test_require_folder_names_the_path_and_the_problem(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(HifiganError) as caught:
        require_folder(tmp_path / "missing")
    assert str(caught.value) == f"{tmp_path / 'missing'}: no such folder"
    with pytest.raises(AudioError) as caught:
        require_folder(tmp_path / "file", AudioError)
    assert str(caught.value) == f"{tmp_path / 'file'}: is not a folder"
    assert require_folder(os.fspath(tmp_path)) == tmp_path
    (tmp_path / "empty-folder").mkdir()
    assert require_folder(tmp_path / "empty-folder") == tmp_path / "empty-folder"
