"""A RIFF WAV past 4 GiB (a writer that cannot write RF64: its sizes left at 0 or 0xFFFFFFFF, or wrapped past 2**32)
is more than its 32-bit sizes can say, and libsndfile reads 4 GiB of it at most: every reader refuses it, naming the
fix, from its header alone. The files are sparse (a header, then a hole: no disk, no memory); each test checks the
header-only audio_info first, so that no reader ever reaches their 4 GiB of samples."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hifigan.audio import audio_info, load_audio, read_samples
from hifigan.data.scan_row import ROW, UNREADABLE, ReadSettings, read_one
from hifigan.errors import AudioError
from hifigan.files.wav_header import placeholder_patch
from hifigan.inference import standalone
from tests.support.cli_runs import SR, failed_cleanly, run

PAST = 2**32 + 2000  # bytes of 16-bit mono samples after the data chunk's header: 2 147 484 648 frames
REFUSED = "RIFF WAV past 4 GiB (4.3 GB after its data chunk's header), more than its 32-bit sizes can say"
FIELDS = {"0xFFFFFFFF": 0xFFFFFFFF, "0": 0, "wrapped": PAST % 2**32}


def sparse_wav(path: Path, data_size: int, held: int = PAST, container: str = "WAV") -> Path:
    """A 16-bit mono WAV header whose data size field holds `data_size` (RF64: its ds64 sizes the true ones), then
    `held` bytes of samples as a hole in the file."""
    sf.write(path, np.zeros(1, np.int16), SR, subtype="PCM_16", format=container)
    head = bytearray(path.read_bytes())
    head = head[:head.index(b"data") + 8]
    if container == "RF64":
        struct.pack_into("<QQ", head, 20, len(head) - 8 + held, held)  # ds64: RIFF size, data size
    else:
        struct.pack_into("<I", head, 4, data_size and min(data_size + len(head) - 8, 0xFFFFFFFF))
        struct.pack_into("<I", head, len(head) - 4, data_size)
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(len(head) + held)
    return path


@pytest.mark.parametrize("field", FIELDS)
def test_every_reader_refuses_a_riff_wav_past_4_gib(tmp_path, field):
    path = sparse_wav(tmp_path / "long.wav", FIELDS[field])
    with pytest.raises(AudioError) as refused:
        audio_info(path)  # before the fix: 2147483647 frames (0xFFFFFFFF), 1000 (wrapped), 2147483647 (0, patched)
    assert str(refused.value) == f"{path}: {REFUSED}: it would be read short (convert it to RF64, reading it to its " \
                                 "end: ffmpeg -ignore_length 1 -i IN.wav -c:a copy -rf64 auto OUT.wav)"
    for reader in (placeholder_patch, lambda p: read_samples(p, "int16"), lambda p: load_audio(p, SR)):
        with pytest.raises(AudioError, match=re.escape(REFUSED)):
            reader(path)
    row, problem = read_one(str(path), ReadSettings(SR))  # training's corpus scan
    assert dict(zip(ROW.names, row, strict=True))["status"] == UNREADABLE and problem.startswith(REFUSED)


def test_mel_and_evaluate_refuse_it_writing_nothing(tmp_path, capsys, tiny_config_json):
    path = sparse_wav(tmp_path / "long.wav", 0xFFFFFFFF)
    with pytest.raises(AudioError, match=re.escape(REFUSED)):
        audio_info(path)
    code, _, err = run(capsys, "mel", path, "-o", tmp_path / "out" / "x.npy", "--config", tiny_config_json)
    assert REFUSED in failed_cleanly(code, err, tmp_path / "out", "long.wav")
    (tmp_path / "gen").mkdir()
    sf.write(tmp_path / "gen" / "long.wav", np.zeros(SR, np.int16), SR)
    code, _, err = run(capsys, "evaluate", "--reference", tmp_path, "--system", f"x={tmp_path / 'gen'}", "--out",
                       tmp_path / "ev", "--config", tiny_config_json)
    assert REFUSED in failed_cleanly(code, err, tmp_path / "ev", "long.wav")


def test_the_limit_is_what_a_32_bit_data_size_can_say(tmp_path):
    """4 GiB - 1 bytes after the data chunk's header: the size says them all (a RIFF size past 32 bits alone loses
    no sample). One byte more is refused. RF64 says any size: read whole."""
    fits = sparse_wav(tmp_path / "fits.wav", 0xFFFFFFFE, held=0xFFFFFFFF)
    assert audio_info(fits).frames == 0x7FFFFFFF
    with pytest.raises(AudioError, match=re.escape(REFUSED)):
        audio_info(sparse_wav(tmp_path / "past.wav", 0xFFFFFFFE, held=2**32))
    assert audio_info(sparse_wav(tmp_path / "rf64.wav", 0, container="RF64")).frames == PAST // 2


@pytest.mark.parametrize("field", FIELDS)
def test_the_standalone_script_refuses_it_before_reading_it(tmp_path, field):
    path = sparse_wav(tmp_path / "long.wav", FIELDS[field])
    assert standalone.past_riff(str(path))  # first: read_wav reads a file it does not refuse whole, into memory
    assert not standalone.past_riff(str(sparse_wav(tmp_path / "fits.wav", 0xFFFFFFFE, held=0xFFFFFFFF)))
    with pytest.raises(standalone.Refused, match=f"^{path}: RIFF WAV past 4 GiB, .* read short \\(split it"):
        standalone.read_wav(str(path), SR)


def test_the_script_keeps_hifigans_limit():
    from hifigan.files.wav_header import RIFF_MAX

    assert standalone.RIFF_LIMIT == RIFF_MAX
