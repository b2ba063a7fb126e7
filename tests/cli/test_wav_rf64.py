"""The readers check an RF64 file's sizes (in its ds64 chunk) as a WAV's, and the listening study's blinding
strips chunks from RF64 bytes keeping its sizes right."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from hifigan.audio import audio_info, load_audio, to_int16
from hifigan.errors import AudioError
from hifigan.wav_header import without_chunks
from tests.support.cli_runs import SR, tone


@pytest.mark.parametrize("subtype", ["PCM_16", "FLOAT"])
def test_the_blinding_strips_chunks_from_rf64_keeping_its_sizes(subtype):
    samples = (np.arange(-600, 600, dtype=np.int16)).reshape(-1, 2)
    data = samples if subtype == "PCM_16" else samples.astype(np.float32) / 32768
    rf64 = io.BytesIO()
    sf.write(rf64, data, SR, format="RF64", subtype=subtype)
    # the blinding's copy of an RF64 file (libsndfile writes no PEAK there): RF64 still, its ds64 RIFF size right
    stripped = without_chunks(rf64.getvalue(), frozenset({b"PEAK"}))
    assert stripped[:4] == b"RF64" and b"PEAK" not in stripped
    back, _ = sf.read(io.BytesIO(stripped), dtype=data.dtype.name)
    assert np.array_equal(back, data)
    assert int.from_bytes(stripped[20:28], "little") == len(stripped) - 8


def test_a_truncated_rf64_file_is_refused_and_a_whole_one_read(tmp_path):
    audio = tone(1000)
    path = tmp_path / "a.wav"
    sf.write(path, to_int16(audio), SR, format="RF64", subtype="PCM_16")
    assert np.array_equal(load_audio(path, SR), to_int16(audio) / np.float32(32768))
    cut = tmp_path / "cut.wav"
    cut.write_bytes(path.read_bytes()[:-600])
    with pytest.raises(AudioError, match="truncated WAV: the header promises 1000 frames, the file holds 700"):
        audio_info(cut)
    with pytest.raises(AudioError, match="truncated WAV"):
        load_audio(cut, SR)
