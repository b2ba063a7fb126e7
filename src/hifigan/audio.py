"""Audio I/O: finding, reading and writing audio files (soundfile); .npy mels are hifigan.mel_file, the mel
front-end hifigan.mel."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import soundfile as sf

from hifigan.arrays.pcm import MAX_WAV_VALUE
from hifigan.arrays.tensors import is_tensor
from hifigan.config.values import integer
from hifigan.errors import AudioError, FileReadError, HifiganError, first_line
from hifigan.files.atomic import atomic_path
from hifigan.files.paths import require_file, require_folder
from hifigan.files.walk import files_directly_in, files_in, walk
from hifigan.files.wav_header import PatchedFile, placeholder_patch, readable_patch
from hifigan.files.wav_output import RIFF_DATA_LIMIT, wav_container, write_wav_stream
from hifigan.files.write_failures import write_failure
from hifigan.messages.option_names import switched_on
from hifigan.messages.plural import count

if TYPE_CHECKING:
    import torch

# The suffixes of the formats soundfile (libsndfile) decodes: WAV, Wave64, FLAC, Ogg (Vorbis, Opus), AIFF, AU, MP3.
AUDIO_SUFFIXES = (".wav", ".w64", ".flac", ".ogg", ".oga", ".opus", ".aif", ".aiff", ".au", ".mp3")


def find_audio(folder: str | os.PathLike, *, recursive: bool = False, suffixes: tuple[str, ...] = AUDIO_SUFFIXES,
               what: str = "audio", linked: list[tuple[Path, Path]] | None = None,
               broken: list[Path] | None = None, unreadable: list[OSError] | None = None) -> list[Path]:
    """The audio files (`suffixes`, any case: `what` files) in `folder`, or anywhere below it when `recursive`
    (symlinked folders included, each real folder once: `linked` gets (path, first path) of each folder not entered
    again; `broken` the symlinks of such a name that lead to no file; `unreadable` the error of each folder not
    listed), sorted by path; hidden files and folders are skipped. A folder without any, or that cannot be listed,
    is an error naming it (and, not `recursive`, how many its subfolders hold)."""
    folder, errors = require_folder(folder), [] if unreadable is None else unreadable
    if files := (files_in(walk(folder, linked, errors), suffixes, broken) if recursive
                 else files_directly_in(folder, suffixes)):
        return files
    if errors:  # nothing found, and a folder could not be listed: that is why, not "contains no audio files"
        e = errors[0]
        where = "" if e.filename == os.fspath(folder) else f" {count(len(errors), 'folder')} in it, e.g. {e.filename}"
        raise HifiganError(folder, f"cannot read{where} ({e.strerror})")
    if below := [] if recursive else files_in(walk(folder), suffixes):  # a speaker-per-folder corpus, given flat
        raise HifiganError(folder, f"contains no {what} files directly ({len(below)} in its subfolders, e.g. "
                                   f"{below[0]}: give the folder that holds them)")
    raise HifiganError(folder, f"contains no {what} files ({', '.join(suffixes)})")


def load_audio(
    path: str | os.PathLike,
    sampling_rate: int | None = None,
    *,
    resample: bool = False,
    mix_to_mono: bool = False,
    cli: bool = False,
) -> np.ndarray:
    """Read a mono file as float32 in [-1, 1] (int16 scaled by 1/32768, as the official code does).

    A rate other than `sampling_rate` is an error unless `resample` is set (soxr, high quality), more than one
    channel unless `mix_to_mono`; the hint names the argument (`resample=True`), or with `cli` (the command line's
    readers) the option (`--resample`; option_names).
    """
    return read_audio(path, sampling_rate, resample=resample, mix_to_mono=mix_to_mono, cli=cli)[0]


def read_audio(path: str | os.PathLike, sampling_rate: int | None = None, *, resample: bool = False,
               mix_to_mono: bool = False, cli: bool = False) -> tuple[np.ndarray, int, int]:
    """`load_audio`'s samples, and the file's rate and channel count as stored (what was resampled, mixed down).
    A `sampling_rate` that is not a whole number of Hz >= 1 (a string from a config file) is a ValueError naming it,
    before the file is read."""
    if sampling_rate is not None:
        integer("sampling_rate", sampling_rate, 1)
    path = require_file(path, "an audio file", AudioError)
    audio, sr = decode_audio(path)
    samples = conform_audio(path, audio, sr, sampling_rate, resample=resample, mix_to_mono=mix_to_mono, cli=cli)
    return samples, sr, audio.shape[1]


def decode_audio(path: Path, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, int]:
    """The samples of a file as they are stored, float32 [frames, channels], and its rate (frames [start, stop)
    alone where given: a segment of a recording); an unreadable, empty, truncated or non-finite file is an AudioError
    naming it."""
    try:
        with _opened(path, readable_patch(path)) as source:
            audio, sr = sf.read(source, dtype="float32", always_2d=True, start=start, stop=stop)
    except AudioError:
        raise
    except OSError as e:
        raise _read_failure(path, e) from None
    except MemoryError:
        raise AudioError(path, "not a readable audio file (header claims more samples than fit in memory)") from None
    except Exception as e:  # libsndfile/soundfile failures on these untrusted bytes, whatever their type
        raise _undecodable(path, e) from None
    if audio.shape[0] == 0:
        raise AudioError(path, "contains no audio samples")
    if not np.isfinite(audio).all():
        raise AudioError(path, "contains non-finite samples (NaN or inf)")
    return audio, sr


def read_samples(path: str | os.PathLike, dtype: str, frames: int = -1) -> tuple[np.ndarray, int]:
    """The first `frames` sample frames of a file (all: -1) as stored, [frames, channels] `dtype` (int16 or int32
    keep PCM exactly), and its rate; a WAV whose data size is the placeholder 0 is read as the samples that follow
    (as decode_audio reads it). A header that reads but audio that does not decode is a one-line AudioError."""
    path = Path(path)
    try:
        with _opened(path, placeholder_patch(path)) as source:
            return sf.read(source, frames=frames, dtype=dtype, always_2d=True)
    except OSError as e:
        raise _read_failure(path, e) from None
    except (sf.LibsndfileError, RuntimeError) as e:
        raise _undecodable(path, e) from None


def _opened(path: Path, patch: tuple[int, bytes] | None) -> contextlib.AbstractContextManager[Any]:
    """What soundfile reads for `path`: the path, or the file read with `patch` over it: the data size a writer into
    a pipe left at 0 replaced by the size of the samples that follow (hifigan.files.wav_header.placeholder_patch)."""
    if patch is not None:
        return PatchedFile(path, patch)
    return contextlib.nullcontext(_sf_name(path))


def _sf_name(path: Path) -> Path | bytes:
    """`path` as soundfile can open it: soundfile encodes a str name strictly, which fails for a POSIX name that is
    not UTF-8 (kept by Python as surrogate escapes); that one is given as its own bytes (os.fsencode). Only that
    one: libsndfile's messages then show b'...'."""
    if os.name == "nt":
        return path
    try:
        os.fspath(path).encode(sys.getfilesystemencoding())
    except UnicodeEncodeError:
        return os.fsencode(path)
    return path


def _read_failure(path: str | os.PathLike, e: OSError) -> FileReadError:
    """An OSError while opening or reading `path`, as one line: no verdict on its content."""
    return FileReadError(path, f"cannot read ({e.strerror or e})")


# What libsndfile says when its MP3 reader finds no MPEG frames in a file (text or noise named .mp3): false of a file
# that is there, which is then said as the bytes of any other format libsndfile does not know are said.
_NOT_A_REGULAR_FILE = "File does not exist or is not a regular file"


def _undecodable(path: str | os.PathLike, e: Exception) -> AudioError:
    """Bytes libsndfile cannot decode, as one line: its reason, without soundfile's "Error opening 'PATH': " (the
    line names the file already) or the reason's full stop."""
    reason = e.error_string if isinstance(e, sf.LibsndfileError) and e.error_string else first_line(e)
    if reason.startswith(_NOT_A_REGULAR_FILE) and os.path.isfile(path):
        reason = "Format not recognised"
    return AudioError(path, f"not a readable audio file ({reason.rstrip('.')})")


def conform_audio(
    path: Path, audio: np.ndarray, sr: int, sampling_rate: int | None, *, resample: bool = False,
    mix_to_mono: bool = False, cli: bool = False,
) -> np.ndarray:
    """Decoded samples [frames, channels] at `sr` as the model takes them: mono float32 [frames'] at
    `sampling_rate`, under the format rules of check_format."""
    check_format(path, audio.shape[1], sr, sampling_rate, resample=resample, mix_to_mono=mix_to_mono, cli=cli)
    if audio.shape[1] != 1:
        audio = audio.mean(axis=1, keepdims=True)
    audio = np.ascontiguousarray(audio[:, 0])
    if sampling_rate is not None and sr != sampling_rate:
        audio = resample_audio(audio, sr, sampling_rate)
    return audio


def check_format(
    path: str | os.PathLike, channels: int, rate: int, sampling_rate: int | None, *,
    resample: bool = False, mix_to_mono: bool = False, cli: bool = False,
) -> None:
    """The format rules every reader applies (from a header or decoded samples): mono unless `mix_to_mono`,
    the model's rate unless `resample`; a file that breaks both is named once, for both (one rerun fixes it)."""
    if problems := format_problems(channels, rate, sampling_rate, resample=resample, mix_to_mono=mix_to_mono,
                                   cli=cli):
        raise AudioError(path, "; ".join(problems))


def format_problems(channels: int, rate: int, sampling_rate: int | None, *, resample: bool = False,
                    mix_to_mono: bool = False, cli: bool = False) -> list[str]:
    """Each format rule (check_format) a file of `channels` at `rate` Hz breaks, as the argument that fixes it
    (`mix_to_mono=True`; `cli`: as the command's option, `--mix-to-mono`; option_names)."""
    problems = []
    if channels != 1 and not mix_to_mono:
        problems.append(f"has {channels} channels; only mono is supported (use {switched_on('mix_to_mono', cli)})")
    if sampling_rate is not None and rate != sampling_rate and not resample:
        problems.append(f"sample rate is {rate} Hz, expected {sampling_rate} Hz (use {switched_on('resample', cli)})")
    return problems


def resample_audio(audio: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Band-limited resampling with soxr's high-quality preset."""
    import soxr

    return soxr.resample(audio, orig_sr, target_sr, quality="HQ").astype(np.float32)


def audio_info(path: str | os.PathLike) -> sf._SoundFileInfo:
    """Header of an audio file (rate, channels, frames) without reading the samples; a truncated WAV is an error."""
    path = require_file(path, "an audio file", AudioError)
    try:
        with _opened(path, readable_patch(path)) as source:
            return sf.info(source)
    except AudioError:
        raise
    except OSError as e:
        raise _read_failure(path, e) from None
    except Exception as e:  # libsndfile/soundfile failures on these untrusted bytes, whatever their type
        raise _undecodable(path, e) from None


def to_int16(audio: np.ndarray) -> np.ndarray:
    """Float audio to int16 as the official inference does (x * 32768, truncated), clipped at full scale."""
    scaled = np.clip(np.asarray(audio, dtype=np.float32) * MAX_WAV_VALUE, -MAX_WAV_VALUE, MAX_WAV_VALUE - 1)
    return scaled.astype(np.int16)


def _samples(audio: np.ndarray | torch.Tensor, path: str | os.PathLike) -> np.ndarray:
    """`audio` (one channel: [samples], or with axes of size 1 as a model gives it, [1, 1, samples]) as a flat numpy
    array; refused if it holds several channels (flattened, they would be written interleaved as one) or NaN or inf
    (to_int16 would write them as silence)."""
    if is_tensor(audio):
        audio = audio.detach().float().cpu().numpy()
    audio = np.asarray(audio)
    if sum(size > 1 for size in audio.shape) > 1:
        raise AudioError(path, f"audio to write has shape {list(audio.shape)}: one channel is written ([samples]); "
                               "nothing written")
    audio = audio.reshape(-1)
    if not np.isfinite(audio).all():
        raise AudioError(path, "audio to write holds NaN or inf; nothing written")
    return audio


def save_audio(path: str | os.PathLike, audio: np.ndarray | torch.Tensor, sampling_rate: int, *,
               riff_limit: int = RIFF_DATA_LIMIT) -> None:
    """Write 16-bit PCM WAV atomically (no partial file on failure): RIFF/WAVE, or RF64 where the samples' bytes
    pass `riff_limit` (hifigan.files.wav_output; lower only to test the rule)."""
    audio = _samples(audio, path)
    buffer = io.BytesIO()  # encode in memory: a failed disk write then raises OSError with its errno
    container = wav_container(audio.size, 1, "PCM_16", riff_limit)
    sf.write(buffer, to_int16(audio), sampling_rate, subtype="PCM_16", format=container)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getbuffer())


def save_audio_chunks(path: str | os.PathLike, chunks: Iterable[np.ndarray | torch.Tensor], sampling_rate: int,
                      *, riff_limit: int = RIFF_DATA_LIMIT) -> int:
    """Write the concatenated `chunks` as `save_audio` writes them whole, each chunk to the file as it comes, so that
    memory holds one chunk however long the audio (an audiobook streamed from a mel); the length unknown up front,
    the file moves to RF64 when the samples pass `riff_limit` (hifigan.files.wav_output.write_wav_stream). Atomically: a
    chunk with NaN or inf, an exception raised by `chunks` or a failed write leaves no file. Returns the samples
    written."""
    with atomic_path(path) as tmp:
        try:
            return write_wav_stream(tmp, (to_int16(_samples(c, path)) for c in chunks), sampling_rate, "PCM_16",
                                    riff_limit)
        except sf.LibsndfileError as e:  # libsndfile's own write, which gives no errno
            raise write_failure(path, e) from None
