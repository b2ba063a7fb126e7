"""The wire formats of API v1: a .npy mel in (checked: dtype, shape, mel count, finite, length), and audio out as
16-bit WAV, raw 16-bit PCM (little-endian) or raw float (`?format=`), exactly as `hifigan vocode` quantises; and the
close codes with which the server's side ends a stream: 4000 + the status of an error, and the others."""

from __future__ import annotations

import io
import math

import numpy as np
from numpy.lib import format as npy_format

from hifigan.arrays.mel_shape import mel_shapes as any_mel_shapes
from hifigan.arrays.mel_shape import unbatched
from hifigan.audio import to_int16
from hifigan.errors import MelError
from hifigan.files.wav_output import wav_container
from hifigan.mel_file import checked_mel_values
from hifigan.messages.plural import count
from hifigan.serve.limits import option

# The audio formats and the little-endian samples each carries (a WAV's: 16-bit PCM), which the server writes and
# the client reads; f64: the float64 model's samples unrounded (exactness checks).
SAMPLE_TYPES = {"wav": "<i2", "pcm16": "<i2", "f32": "<f4", "f64": "<f8"}
FORMATS = tuple(SAMPLE_TYPES)
# The ?format= each route takes, its default first: POST /v1/vocode answers one body (a WAV file, or raw samples),
# a stream sends raw chunks to be concatenated (no WAV: each chunk would be a file of its own).
VOCODE_FORMATS = ("wav", "f32", "f64")
STREAM_FORMATS = ("pcm16", "f32", "f64")
NPY_TYPE = "application/x-npy"
NPY_VERSIONS = ((1, 0), (2, 0), (3, 0))  # the .npy format versions numpy reads (3.0: a UTF-8 header, else as 2.0)
CLOSED_BY = {  # RFC 6455 close codes with which the server's side ends a stream (no text error before them): the
    # status each counts as on the server, and what it says (the server's log line, the client's ServeError)
    1009: (413, f"a message over the server's WebSocket limit, twice {option('max_message_bytes')} (closed 1009: "
                "message too big)"),
    1012: (503, f"the server shut down before the stream ended ({option('drain_timeout_s')}; closed 1012: service "
                "restart)"),
}
STREAM_ERRORS = {  # the statuses of a stream's errors, closed with 4000 + the status after the text {"error": ...}
    400: "a message that is not a mel the model takes, a text message other than 'end', a message after 'end', or "
         "a bad query (a parameter other than format, format twice, an unknown format)",
    408: f"no message for {option('idle_timeout_s')}, or {option('stream_timeout_s')} of waiting for them in all",
    413: f"over {option('max_frames')} in all, or a message over {option('max_message_bytes')}",
    429: f"too many streams ({option('max_streams')})",
    500: "the model failed on the stream's window",
    503: "the model still loading, the server shutting down, or its batcher stopped",
}


def stream_closes() -> str:
    """Every close code of a stream that did not end whole, each with why, as /openapi.json says them."""
    errors = "; ".join(f"{4000 + status}: {why}" for status, why in STREAM_ERRORS.items())
    others = "; ".join(f"{code}: {why}" for code, (_, why) in CLOSED_BY.items())
    return f"4000 + the HTTP status after the text error ({errors}); or, with no text, {others}"


class RequestError(Exception):
    """Bad input: answered with `status` and {"error": message} (and `headers`); the server goes on."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


def chosen_format(query: list[tuple[str, str]], formats: tuple[str, ...]) -> str:
    """The `format` a request or stream asks for in its query (the first of `formats`, its default, when none).
    `format` is the only query parameter of API v1: another one, or `format` twice, is a RequestError naming it (a
    misspelt name or a second value was ignored, and the last value taken)."""
    for name, _ in query:
        if name != "format":
            raise RequestError(400, f"unknown query parameter {name!r} (the only one is format: "
                                    f"{', '.join(formats)})")
    if len(query) > 1:
        raise RequestError(400, f"query parameter 'format' given {len(query)} times "
                                f"({', '.join(value for _, value in query)}): give it once")
    fmt = query[0][1] if query else formats[0]
    if fmt not in formats:
        raise RequestError(400, f"unknown format {fmt!r} (choose from {', '.join(formats)})")
    return fmt


def mel_shapes(num_mels: int, frames: str = "T") -> str:
    """The shapes a mel may have, as the errors, /openapi.json and docs/serving.md say them: a request body and a
    stream message alike (both go through decode_mel), as `Vocoder.stream` takes a chunk."""
    return any_mel_shapes(num_mels, (2, 3), batch="1", frames=frames)


def decode_mel(body: bytes, num_mels: int, max_frames: int, what: str = "body") -> np.ndarray:
    """The bytes of a .npy file holding float32 [num_mels, T] or [1, num_mels, T] (T >= 1, finite), as the float32
    [num_mels, T] array (float16 and float64 cast to float32, as `hifigan vocode` reads them: a client's
    numpy default dtype is taken); anything else is a RequestError that names the problem. The one check of a request
    body and of a stream message."""
    if not body:  # said apart from "not a .npy file": a client that sent nothing (an HTTP body without a
        # Content-Length or chunked encoding is empty) would look for a problem in bytes it never sent
        hint = "; an HTTP body needs a Content-Length or chunked encoding" if what == "body" else ""
        raise RequestError(400, f"{what} is empty (expected the bytes of numpy.save of a float32 "
                                f"{mel_shapes(num_mels)} mel{hint})")
    if not body.startswith(b"\x93NUMPY"):
        raise RequestError(400, f"{what} is not a .npy file (expected the bytes of numpy.save of a float32 "
                                f"{mel_shapes(num_mels)} mel)")
    buffer = io.BytesIO(body)
    try:
        _check_data_size(buffer, len(body), what)
        mel = np.load(buffer, allow_pickle=False)
    except RequestError:
        raise
    except Exception as e:  # a malformed file, or an object array
        why = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise RequestError(400, f"{what} is not a readable .npy file ({why})") from None
    if (extra := len(body) - buffer.tell()) > 0:  # np.load reads one array: a second one's frames would be dropped
        raise RequestError(400, f"{what} has {count(extra, 'byte')} after its .npy array (one float32 "
                                f"{mel_shapes(num_mels)} mel per body or message)")
    if not np.issubdtype(mel.dtype, np.floating):  # float16/32/64 in either byte order, converted below
        raise RequestError(400, f"{what} has dtype {mel.dtype}, expected floating point (float32; float16 and "
                                "float64 are converted to it, as hifigan vocode converts them)")
    sent = list(mel.shape)  # the error names the shape as sent, before [1, num_mels, T] loses its batch axis
    mel = unbatched(mel)  # [1, num_mels, T]: a batch of one, taken as Vocoder.stream takes a chunk
    if mel.ndim != 2 or mel.shape[1] < 1:
        raise RequestError(400, f"{what} has shape {sent}, expected {mel_shapes(num_mels)} with T >= 1")
    if mel.shape[0] != num_mels:  # [frames, num_mels], as many TTS models give it, said so (as `hifigan vocode`)
        hint = f"; a [frames, {num_mels}] mel? send it as [{num_mels}, frames]" if mel.shape[1] == num_mels else ""
        raise RequestError(400, f"{what} has {count(mel.shape[0], 'mel bin')}, the model expects {num_mels} "
                                f"(shape {sent}, expected {mel_shapes(num_mels)}{hint})")
    if mel.shape[1] > max_frames:
        raise RequestError(413, f"{what} has {count(mel.shape[1], 'frame')}, more than the limit of {max_frames} "
                                f"({option('max_frames')})")
    if (bad := int((~np.isfinite(mel)).sum())) > 0:
        raise RequestError(400, f"{what} holds {count(bad, 'NaN or infinite value')}")
    try:  # the library's one rule for a mel's values, and its cast to float32: load_mel's, which vocode reads with
        mel = checked_mel_values(mel, what, np.float32)
    except MelError:  # finite in float64, not in float32
        raise RequestError(400, f"{what} has values beyond the float32 range (its dtype is {mel.dtype})") from None
    return np.ascontiguousarray(mel)


def _check_data_size(buffer: io.BytesIO, size: int, what: str) -> None:
    """Refuse a .npy whose data is shorter than its header says (a body or message cut short), from the header alone:
    np.load would first allocate what the header claims (any size: "Unable to allocate 298. GiB") and then name its
    own read buffer ("expected 262144 bytes got 64"), not the array; a body cut within the header, by the length
    the header gives itself. Leaves `buffer` at its start."""
    version = npy_format.read_magic(buffer)
    if version not in NPY_VERSIONS:  # np.load then names the versions it reads (a 2.0 reader would take garbage
        buffer.seek(0)  # for the header's length and say "expected 662372470 bytes")
        return
    length_bytes = 2 if version == (1, 0) else 4  # the header's length: little-endian, 2 bytes (1.0) or 4
    start, length = buffer.tell(), buffer.read(length_bytes)
    end = start + length_bytes + int.from_bytes(length, "little")
    if len(length) < length_bytes or size < end:  # np.load would say "EOF: reading array header, expected ..."
        of = f" of its {end}" if len(length) == length_bytes else ""
        raise RequestError(400, f"{what} is a .npy file cut short in its header: {count(size, 'byte')} came{of}")
    buffer.seek(start)
    read_header = npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
    shape, _, dtype = read_header(buffer)
    if not dtype.hasobject:  # an object array is refused by np.load (allow_pickle=False)
        expected, came = math.prod(shape) * dtype.itemsize, size - buffer.tell()
        if came < expected:
            raise RequestError(400, f"{what} is a .npy file cut short: its header says {dtype} {list(shape)}, "
                                    f"{count(expected, 'byte')} of data, and {count(came, 'byte')} came")
    buffer.seek(0)


def encode_audio(audio: np.ndarray, fmt: str, sampling_rate: int) -> bytes:
    """Audio samples in one of FORMATS: a whole WAV file, or raw little-endian samples (to be concatenated)."""
    if fmt == "wav":
        import soundfile as sf

        samples = to_int16(audio)
        buffer = io.BytesIO()
        sf.write(buffer, samples, sampling_rate, subtype="PCM_16", format=wav_container(samples.size, 1, "PCM_16"))
        return buffer.getvalue()
    if fmt == "pcm16":
        return to_int16(audio).astype(SAMPLE_TYPES[fmt]).tobytes()
    if fmt in SAMPLE_TYPES:
        return np.asarray(audio, dtype=SAMPLE_TYPES[fmt]).tobytes()
    raise RequestError(400, f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")


def npy_bytes(mel: np.ndarray) -> bytes:
    """The .npy file of a mel, as a client sends it: float32, cast and checked by the rule the server and `hifigan
    vocode` apply (checked_mel_values), so that a mel they refuse is a MelError here, before it is sent (an int mel was
    sent cast, and a float64 one beyond float32's range as infinities, which the server called NaN or infinite)."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(checked_mel_values(np.asarray(mel), None, np.float32)), allow_pickle=False)
    return buffer.getvalue()
