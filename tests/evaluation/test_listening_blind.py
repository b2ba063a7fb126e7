"""The study's copies give no system away: every version of a clip has one WAV format, one length and one header,
and keeps its samples exactly where that format holds them."""

from __future__ import annotations

import contextlib
import io
import sqlite3
import struct

import numpy as np
import pytest
import soundfile as sf

from hifigan.errors import HifiganError
from hifigan.evaluation.listening.blinding import study_subtype
from hifigan.evaluation.listening.study import study_for
from hifigan.files.wav_header import without_chunks

RATE = 8000


def chunk_ids(wav: bytes) -> list[bytes]:
    ids, position = [], 12
    while position + 8 <= len(wav):
        chunk, length = struct.unpack_from("<4sI", wav, position)
        ids.append(chunk)
        position += 8 + length + (length & 1)
    return ids


def data_offset(wav: bytes) -> int:
    return wav.index(b"data") + 8


def tone(frames: int, k: int) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * (150 + 40 * k) * np.arange(frames) / RATE)).astype(np.float32)


@pytest.fixture
def mixed(tmp_path):
    """Recordings as 16-bit PCM with a LIST (title) chunk, a vocoder's float32 output 100 frames longer, another
    as 24-bit PCM 37 frames shorter: what copy synthesis against real recordings looks like."""
    lengths = {"reference": 2000, "float": 2100, "pcm24": 1963}
    subtypes = {"reference": "PCM_16", "float": "FLOAT", "pcm24": "PCM_24"}
    for k, name in enumerate(lengths):
        (tmp_path / name).mkdir()
        for clip in ("a", "b"):
            with sf.SoundFile(tmp_path / name / f"{clip}.wav", "w", RATE, 1, subtypes[name], format="WAV") as f:
                if name == "reference":
                    f.title = "LJ001-0001 recording"
                f.write(tone(lengths[name] + (clip == "b"), k))
    return tmp_path


def copies(study) -> dict[tuple[str, str], tuple[bytes, str]]:
    with contextlib.closing(sqlite3.connect(study.path)) as con:
        rows = con.execute("SELECT token, clip, system, source FROM trials").fetchall()
    return {(clip, system): (study.audio_file(token).read_bytes(), source) for token, clip, system, source in rows}


def test_versions_of_a_clip_share_format_length_and_header(mixed):
    study = study_for(mixed / "study", mixed / "reference",
                      {"float": mixed / "float", "pcm24": mixed / "pcm24"}, seed=0)
    found = copies(study)
    for clip, frames in (("a", 1963), ("b", 1964)):
        wavs = [found[clip, system][0] for system in ("reference", "float", "pcm24")]
        assert len({len(w) for w in wavs}) == 1
        assert len({w[:data_offset(w)] for w in wavs}) == 1  # every byte before the samples is the same
        for system in ("reference", "float", "pcm24"):
            wav, source = found[clip, system]
            assert b"PEAK" not in chunk_ids(wav) and b"LIST" not in chunk_ids(wav)
            copy = sf.read(io.BytesIO(wav), dtype="float64")
            original = sf.read(source, dtype="float64")[0]
            assert sf.info(io.BytesIO(wav)).subtype == "FLOAT" and copy[1] == RATE and len(copy[0]) == frames
            np.testing.assert_array_equal(copy[0], original[:frames])  # 16- and 24-bit PCM fit float32 exactly


def test_one_shared_format_is_kept(tmp_path):
    for name, frames in (("reference", 1500), ("v1", 1536)):
        (tmp_path / name).mkdir()
        sf.write(tmp_path / name / "a.wav", tone(frames, 1), RATE, subtype="PCM_24")
    study = study_for(tmp_path / "study", tmp_path / "reference", {"v1": tmp_path / "v1"}, seed=0)
    for wav, source in copies(study).values():
        copy = sf.read(io.BytesIO(wav), dtype="int32")[0]
        assert sf.info(io.BytesIO(wav)).subtype == "PCM_24" and len(copy) == 1500
        np.testing.assert_array_equal(copy, sf.read(source, dtype="int32")[0][:1500])


def test_a_version_cut_by_much_is_named(tmp_path):
    for name, frames in (("reference", 4000), ("v1", 4000 + RATE)):  # one second longer: another utterance?
        (tmp_path / name).mkdir()
        sf.write(tmp_path / name / "a.wav", tone(frames, 0), RATE)
    with pytest.warns(UserWarning, match=r"v1/a\.wav: cut by 1\.00 s to clip 'a'"):
        study_for(tmp_path / "study", tmp_path / "reference", {"v1": tmp_path / "v1"}, seed=0)


def test_study_subtype():
    assert study_subtype(["PCM_16", "PCM_16"]) == "PCM_16"
    assert study_subtype(["VORBIS", "PCM_16"]) == "PCM_16"  # a lossy file is copied as 16-bit
    assert study_subtype(["PCM_16", "FLOAT"]) == study_subtype(["PCM_32", "PCM_24"]) == "FLOAT"
    assert study_subtype(["DOUBLE"]) == "FLOAT"  # no browser plays 64-bit float WAV


def test_without_chunks_drops_only_those():
    buffer = io.BytesIO()
    sf.write(buffer, tone(300, 0), RATE, format="WAV", subtype="FLOAT")
    wav = buffer.getvalue()
    assert chunk_ids(wav) == [b"fmt ", b"fact", b"PEAK", b"data"]
    stripped = without_chunks(wav, frozenset({b"PEAK"}))
    assert chunk_ids(stripped) == [b"fmt ", b"fact", b"data"]
    assert struct.unpack_from("<I", stripped, 4)[0] == len(stripped) - 8
    np.testing.assert_array_equal(sf.read(io.BytesIO(stripped))[0], sf.read(io.BytesIO(wav))[0])


def test_a_piped_wav_with_data_size_0_is_copied_with_its_real_samples(tmp_path):
    """A recording written by sox or ffmpeg into a pipe leaves its data size at the placeholder 0, which libsndfile
    alone reads as no samples: the study reads it through hifigan.audio, so its versions keep their real length
    and samples instead of being cut to nothing."""
    audio = {"reference": tone(1500, 0), "v1": tone(1536, 1)}
    for name, samples in audio.items():
        (tmp_path / name).mkdir()
        sf.write(tmp_path / name / "a.wav", samples, RATE, subtype="PCM_16", format="WAV")
    piped = tmp_path / "reference" / "a.wav"
    whole = piped.read_bytes()
    data = bytearray(whole)
    struct.pack_into("<I", data, data.index(b"data") + 4, 0)  # the data size a writer into a pipe leaves
    piped.write_bytes(data)
    assert sf.info(str(piped)).frames == 0  # what libsndfile alone makes of it
    found = copies(study_for(tmp_path / "study", tmp_path / "reference", {"v1": tmp_path / "v1"}, seed=0))
    originals = {"reference": io.BytesIO(whole), "v1": tmp_path / "v1" / "a.wav"}
    for system, source in originals.items():
        copy, rate = sf.read(io.BytesIO(found["a", system][0]), dtype="int16")
        assert rate == RATE and len(copy) == 1500  # the shortest version: the piped recording's 1500 frames
        np.testing.assert_array_equal(copy, sf.read(source, dtype="int16")[0][:1500])


def test_a_version_with_other_channels_than_its_reference_is_refused(tmp_path):
    """A stereo copy among mono ones would tell its system by its header (and its size): refused, naming it."""
    mono = tone(800, 0)
    for name, samples in (("reference", mono), ("v1", np.stack([mono, mono], axis=1)), ("v2", mono)):
        (tmp_path / name).mkdir()
        sf.write(tmp_path / name / "a.wav", samples, RATE)
    systems = {"v1": tmp_path / "v1", "v2": tmp_path / "v2"}
    with pytest.raises(HifiganError, match=r"v1/a\.wav: has 2 channels, the reference's a\.wav 1; every version "
                                           r"of a clip needs the reference's channel count") as error:
        study_for(tmp_path / "study", tmp_path / "reference", systems, seed=0)
    assert "v2" not in str(error.value) and not (tmp_path / "study").exists()
