"""hifigan.files.wav_output: every WAV writer takes RIFF/WAVE while the samples' bytes fit RIFF's 32-bit sizes and RF64
past them (libsndfile writes 0xFFFFFFFF sizes there, read back short). The rule is tested at its boundary with the
limit lowered, through the real writers; and the readers check an RF64 file's sizes as a WAV's."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from hifigan.audio import audio_info, load_audio, save_audio, save_audio_chunks, to_int16
from hifigan.errors import AudioError
from hifigan.evaluation.report.media import wav_encoded
from hifigan.files.wav_header import without_chunks
from hifigan.files.wav_output import RIFF_DATA_LIMIT, SAMPLE_BYTES, wav_container, write_wav_stream
from hifigan.serve.codec import encode_audio
from tests.support.cli_runs import SR, tone


def test_the_container_changes_one_byte_past_the_limit():
    assert wav_container(500, 1, "PCM_16", 1000) == "WAV"
    assert wav_container(501, 1, "PCM_16", 1000) == "RF64"
    assert wav_container(250, 2, "FLOAT", 2000) == "WAV"
    assert wav_container(251, 2, "FLOAT", 2000) == "RF64"
    # the real limit: 27 h of 16-bit mono at 22.05 kHz fits, 28 h does not; 32-bit float passes it at half that
    assert wav_container(27 * 3600 * 22050, 1, "PCM_16") == "WAV"
    assert wav_container(28 * 3600 * 22050, 1, "PCM_16") == "RF64"
    assert wav_container(14 * 3600 * 22050, 1, "FLOAT") == "RF64"
    assert RIFF_DATA_LIMIT < 0xFFFFFFFF - 44


@pytest.mark.parametrize("subtype", SAMPLE_BYTES)
def test_the_rule_counts_the_bytes_libsndfile_writes_per_sample(subtype):
    sizes = []
    for frames in (10, 20):
        buffer = io.BytesIO()
        sf.write(buffer, np.zeros(frames), SR, format="WAV", subtype=subtype)
        sizes.append(len(buffer.getvalue()))
    assert SAMPLE_BYTES[subtype] == (sizes[1] - sizes[0]) / 10


def _header(path) -> bytes:
    return path.read_bytes()[:4]


@pytest.mark.parametrize("n", [400, 401])
def test_save_audio_writes_rf64_past_the_limit_bit_exact(tmp_path, n):
    audio = tone(n)
    out = tmp_path / "a.wav"
    save_audio(out, audio, SR, riff_limit=800)
    assert _header(out) == (b"RIFF" if n == 400 else b"RF64")
    back, rate = sf.read(out, dtype="int16")
    assert rate == SR and np.array_equal(back, to_int16(audio))
    assert audio_info(out).frames == n
    streamed = tmp_path / "s.wav"  # the block that passes the limit moves the file before it is written
    assert save_audio_chunks(streamed, iter([audio[:n - 1], audio[n - 1:]]), SR, riff_limit=800) == n
    assert streamed.read_bytes() == out.read_bytes()


def test_a_streamed_file_moves_to_rf64_when_it_grows_past_the_limit(tmp_path):
    chunks = [tone(1000)[i:i + 100] for i in range(0, 1000, 100)]
    whole = np.concatenate(chunks)
    out = tmp_path / "s.wav"
    assert save_audio_chunks(out, iter(chunks), SR, riff_limit=450) == 1000  # passed by the third chunk
    assert _header(out) == b"RF64"
    back, rate = sf.read(out, dtype="int16")
    assert rate == SR and np.array_equal(back, to_int16(whole))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.wav"]  # no temporary left beside it
    fits = tmp_path / "fits.wav"
    save_audio_chunks(fits, iter(chunks), SR, riff_limit=2000)  # within the limit: what a whole write makes
    save_audio(tmp_path / "whole.wav", whole, SR)
    assert fits.read_bytes() == (tmp_path / "whole.wav").read_bytes()


def test_a_streamed_float_file_moves_to_rf64_bit_exact(tmp_path):
    # float samples past full scale and below int32's step: the copy into RF64 must not pass them through integers
    blocks = [np.array([1e-12, -3.5, 2.0, 0.25], np.float32) * k for k in (1, 2, 3)]
    out = tmp_path / "f.wav"
    assert write_wav_stream(out, iter(blocks), SR, "FLOAT", limit=20) == 12
    assert _header(out) == b"RF64"
    assert np.array_equal(sf.read(out, dtype="float32")[0], np.concatenate(blocks))


def test_a_failing_chunk_after_the_move_leaves_no_file(tmp_path):
    def chunks():
        yield from (tone(100) for _ in range(5))
        yield np.full(10, np.nan, np.float32)

    with pytest.raises(AudioError, match="NaN or inf"):
        save_audio_chunks(tmp_path / "s.wav", chunks(), SR, riff_limit=450)
    assert list(tmp_path.iterdir()) == []


def test_served_and_embedded_wavs_follow_the_rule():
    assert encode_audio(tone(100), "wav", SR)[:4] == b"RIFF"
    assert wav_encoded(to_int16(tone(100))[:, None], SR, "PCM_16")[:4] == b"RIFF"


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


def test_a_truncated_rf64_file_past_2_gib_is_refused(tmp_path):
    # 64-bit sizes have no placeholder: a ds64 data size of 2 GiB or more is a size like any other
    path = tmp_path / "cut.wav"
    sf.write(path, to_int16(tone(1000)), SR, format="RF64", subtype="PCM_16")
    head = bytearray(path.read_bytes())
    head[28:36] = (2**31).to_bytes(8, "little")  # ds64: RIFF size, then the data size
    path.write_bytes(head)
    with pytest.raises(AudioError, match="truncated WAV: the header promises 1073741824 frames, the file holds 1000 "):
        audio_info(path)
