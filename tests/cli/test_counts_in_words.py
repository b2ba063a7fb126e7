"""A count meets its noun in agreement in every message ("1 file", "2 files"): the helper, and real messages at one
and at two; a size reads in the unit that suits it ("512 bytes", "1.5 KB", "104 MB"), never "0.0 MB"."""

from __future__ import annotations

import warnings

import numpy as np
import soundfile as sf
from hypothesis import given
from hypothesis import strategies as st

from hifigan.data.clip_scan import scan_clips
from hifigan.messages.plural import agree, audio_length, byte_size, count
from tests.support.cli_runs import SR, run, tone
from tests.support.tiny import tiny_config


@given(st.integers(min_value=0, max_value=10**9))
def test_a_count_is_singular_at_one_alone(n):
    assert count(n, "file") == (f"{n} file" if n == 1 else f"{n} files")
    assert count(n, "stimulus", "stimuli") == (f"{n} stimulus" if n == 1 else f"{n} stimuli")
    assert agree(n, "is", "are") == ("is" if n == 1 else "are")
    assert count(n, "file").split(" ", 1)[0] == str(n)


def test_a_size_reads_in_the_unit_that_suits_it():
    sizes = {0: "0 bytes", 1: "1 byte", 999: "999 bytes", 1000: "1.0 KB", 1499: "1.5 KB", 18_000: "18.0 KB",
             99_949: "99.9 KB", 99_950: "100 KB", 999_499: "999 KB", 999_500: "1.0 MB", 1_800_000: "1.8 MB",
             55_800_000: "55.8 MB", 104_000_000: "104 MB", 3 * 10**15: "3000 TB"}
    assert {n: byte_size(n) for n in sizes} == sizes


def test_a_length_of_audio_is_said_in_the_largest_unit_it_fills():
    lengths = {0: "0.0 s", 0.5: "0.5 s", 59.94: "59.9 s", 59.95: "1.0 min", 61: "1.0 min", 750: "12.5 min",
               3596.9: "59.9 min", 3597: "1.0 h", 5999: "1.7 h", 359_819: "99.9 h", 359_820: "100 h",
               4_500_000: "1250 h"}
    assert {s: audio_length(s) for s in lengths} == lengths


@given(st.integers(min_value=1000, max_value=999 * 10**12))  # the last unit, TB, is not capped
def test_a_size_has_two_or_three_digits_and_is_within_5_percent(n):
    value, unit = byte_size(n).split()
    assert unit in ("KB", "MB", "GB", "TB") and 1 <= float(value) < 1000
    scale = 1000 ** ("KMGT".index(unit[0]) + 1)
    assert len(value.replace(".", "")) in (2, 3) and abs(float(value) * scale / n - 1) < 0.051


def scan_warnings(tmp_path, clipped: int, empty: int) -> list[str]:
    """The scan's warnings for a training set with `clipped` clipping files and `empty` empty files (and one clean)."""
    x = tone(SR // 4)
    paths = []
    for i in range(clipped):
        sf.write(tmp_path / f"clipped{i}.wav", np.clip(4 * x, -1.0, 32767 / 32768), SR, subtype="PCM_16")
    for i in range(empty):
        sf.write(tmp_path / f"empty{i}.wav", np.zeros(0, np.float32), SR, subtype="PCM_16")
    sf.write(tmp_path / "clean.wav", x, SR, subtype="PCM_16")
    paths = sorted(tmp_path.glob("*.wav"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scan_clips(paths, tiny_config(), cli=True)
    return [str(w.message).split(": ")[1] for w in caught]


def test_the_scan_warnings_count_one_file_as_one(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    assert scan_warnings(tmp_path / "one", 1, 1) == ["skipped 1 unreadable or empty file", "1 file clips (kept)"]
    assert scan_warnings(tmp_path / "two", 2, 2) == ["skipped 2 unreadable or empty files", "2 files clip (kept)"]


def test_check_mel_counts_the_files_it_cannot_judge_in_agreement(tmp_path, capsys, tiny_config_json):
    for name in ("bad1.npy", "bad2.npy"):
        (tmp_path / name).write_bytes(b"not an array")
    args = ["check-mel", "--config", tiny_config_json]
    _, _, err = run(capsys, *args, tmp_path / "bad1.npy")
    assert err.strip() == f"hifigan check-mel: error: 1 of 1 file is not a mel it can judge: {tmp_path / 'bad1.npy'}"
    _, _, err = run(capsys, *args, tmp_path / "bad1.npy", tmp_path / "bad2.npy")
    assert err.strip() == (f"hifigan check-mel: error: 2 of 2 files are not mels it can judge: "
                           f"{tmp_path / 'bad1.npy'}, {tmp_path / 'bad2.npy'}")
