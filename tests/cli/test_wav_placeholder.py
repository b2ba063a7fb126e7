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
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.audio import audio_info, load_audio
from hifigan.data.scan_row import LOADED, ROW, ReadSettings, read_one
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
    fields = dict(zip(ROW.names, row, strict=True))
    assert problem is None and fields["status"] == LOADED and fields["samples"] == SR // 2 + 1


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


def _patch_of(path: Path) -> tuple[int, bytes] | None:
    from hifigan.files.wav_header import placeholder_patch

    return placeholder_patch(path)


@pytest.mark.parametrize(("frames", "extra"), [(1, 0), (1, 1), (3, 0), (3, 1)])
def test_the_patch_is_the_size_field_and_the_whole_frames_after_it(tmp_path, frames, extra):
    """Offset: the data chunk's size field; value: the bytes of the whole frames held (a partial frame left out)."""
    path = piped(tmp_path / "p.wav", tone(frames, channels=2), "PCM_16", riff_too=False)
    path.write_bytes(path.read_bytes() + b"\x01" * extra)
    at = path.read_bytes().index(b"data") + 4
    assert _patch_of(path) == (at, struct.pack("<I", frames * 4))
    assert audio_info(path).frames == frames


@pytest.mark.parametrize("held", [0, 1, 3])
def test_no_patch_for_less_than_one_frame_or_the_placeholder_ffffffff(tmp_path, held):
    path = piped(tmp_path / "p.wav", tone(4, channels=2), "PCM_16", riff_too=False)
    data = path.read_bytes()
    head = data[:data.index(b"data") + 8]
    path.write_bytes(head + data[len(head):len(head) + held])
    assert _patch_of(path) is None  # under one 4-byte frame: empty indeed
    path.write_bytes(data)
    path.write_bytes(data.replace(b"data\x00\x00\x00\x00", b"data\xff\xff\xff\xff"))
    assert _patch_of(path) is None  # libsndfile reads it to the end itself


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_patched_file_reads_as_the_bytes_with_the_patch_written_over(tmp_path_factory, data):
    from hifigan.files.wav_header import PatchedFile

    body = bytes(range(256)) * 2
    offset = data.draw(st.integers(0, len(body) - 1))
    patch = data.draw(st.binary(min_size=1, max_size=min(8, len(body) - offset)))
    expected = body[:offset] + patch + body[offset + len(patch):]
    path = tmp_path_factory.mktemp("p") / "f.bin"
    path.write_bytes(body)
    with PatchedFile(path, (offset, patch)) as f:
        for _ in range(4):
            start = data.draw(st.integers(0, len(body)))
            size = data.draw(st.integers(0, 40))
            f.seek(start)
            if data.draw(st.booleans()):
                assert f.read(size) == expected[start:start + size]
            else:
                buffer = bytearray(size)
                count = f.readinto(buffer)
                assert bytes(buffer[:count]) == expected[start:start + count]
    assert path.read_bytes() == body
