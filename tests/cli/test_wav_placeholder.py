"""docs/commands.md: a writer into a pipe (sox or ffmpeg writing a WAV to stdout) cannot go back to fill the sizes
in and leaves a placeholder; such a file is read as it is. libsndfile reads a data size of 0 as no samples at all,
so the samples that follow the header are read here as what they are; a WAV with nothing after its header is still
refused as empty."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hifigan.audio import audio_info, load_audio
from hifigan.data.scan_cache import LOADED, ReadSettings, read_one
from hifigan.errors import AudioError
from tests.support.cli_runs import SR, failed_cleanly, run, tone


def piped(path: Path, audio: np.ndarray, subtype: str, riff_too: bool) -> Path:
    """A WAV written by soundfile, then its data size (and with `riff_too` its RIFF size) set to 0, as a writer into
    a pipe leaves them."""
    sf.write(path, audio, SR, subtype=subtype, format="WAV")
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, data.index(b"data") + 4, 0)
    if riff_too:
        struct.pack_into("<I", data, 4, 0)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("riff_too", [False, True])
@pytest.mark.parametrize(("subtype", "channels"), [("PCM_16", 1), ("PCM_24", 2), ("FLOAT", 1)])
def test_a_data_size_of_0_reads_the_samples_that_follow(tmp_path, subtype, channels, riff_too):
    audio = tone(SR // 2 + 1, channels=channels)
    whole = tmp_path / "whole.wav"
    sf.write(whole, audio, SR, subtype=subtype, format="WAV")
    path = piped(tmp_path / "piped.wav", audio, subtype, riff_too)
    assert sf.info(str(path)).frames == 0  # what libsndfile makes of it alone
    assert audio_info(path).frames == SR // 2 + 1
    np.testing.assert_array_equal(load_audio(path, SR, mix_to_mono=True), load_audio(whole, SR, mix_to_mono=True))
    row, problem = read_one(str(path), ReadSettings(SR, mix_to_mono=True))  # what training's scan sees
    assert problem is None and row[2] == LOADED and row[6] == SR // 2 + 1


def test_mel_of_a_piped_wav_is_the_mel_of_the_whole_file(tmp_path, capsys, tiny_config_json):
    audio = tone(SR)
    sf.write(tmp_path / "whole.wav", audio, SR, subtype="PCM_16")
    piped(tmp_path / "piped.wav", audio, "PCM_16", riff_too=True)
    for name in ("whole", "piped"):
        code, _, err = run(capsys, "mel", tmp_path / f"{name}.wav", "-o", tmp_path / f"{name}.npy", "-q",
                           "--config", tiny_config_json)
        assert code == 0, err
    np.testing.assert_array_equal(np.load(tmp_path / "piped.npy"), np.load(tmp_path / "whole.npy"))


def test_a_wav_with_no_sample_after_its_header_is_still_empty(tmp_path, capsys, tiny_config_json):
    path = piped(tmp_path / "empty.wav", tone(SR), "PCM_16", riff_too=True)
    data = path.read_bytes()
    path.write_bytes(data[:data.index(b"data") + 8])
    assert audio_info(path).frames == 0
    with pytest.raises(AudioError, match="contains no audio samples"):
        load_audio(path, SR)
    code, _, err = run(capsys, "mel", path, "-o", tmp_path / "out" / "x.npy", "--config", tiny_config_json)
    failed_cleanly(code, err, tmp_path / "out", "empty.wav", "contains no audio samples")
