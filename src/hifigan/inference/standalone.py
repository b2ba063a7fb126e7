"""Vocode a WAV with exported .onnx files from numpy and onnxruntime alone: the model's own mel front-end
(NAME.mel.onnx, `hifigan export --frontend`), then the generator (NAME.onnx); for a deployment without this package,
copy this file there (docs/export.md). It imports nothing of hifigan, torch or librosa on purpose; tests hold it to
`hifigan vocode`.

Run: `python standalone.py NAME.mel.onnx NAME.onnx IN.wav OUT.wav` (16-bit PCM mono WAV at the model's rate).
"""

from __future__ import annotations

import io
import os
import struct
import sys
import wave
from typing import Any

import numpy as np

# WAV data sizes at or above this are the placeholders of writers into a pipe, not sizes: hifigan.files.wav_header's
# value
UNKNOWN_LENGTH = 0x7FFFF000
RIFF_LIMIT = 0xFFFFFFFF  # the most bytes a RIFF size can say: samples past it are read short whatever the sizes hold
EXTENSIBLE = 0xFFFE  # WAVE_FORMAT_EXTENSIBLE: the sample format is the first two bytes of its SubFormat GUID
PCM_GUID = bytes.fromhex("0100000000001000800000aa00389b71")  # KSDATAFORMAT_SUBTYPE_PCM


# The facts a front-end and its model must share that a mismatch names, in hifigan.inference.export_facts' order:
# the signal's, then "mel", the label of the convention, floor, framing, epsilon and statistics.
SAID_FIRST = ("sampling_rate", "hop_size", "num_mels", "n_fft", "win_size", "fmin", "fmax", "mel")


class Refused(Exception):
    """What the script cannot vocode, in one line naming the file (run as a script: that line on stderr, exit 2)."""


def session(path: str) -> tuple[Any, dict[str, str]]:
    """An onnxruntime CPU session of `path`, and the facts its metadata_props record (hifigan export)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: a command says one line
    require_file(path)
    try:
        loaded = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime's own exception classes (InvalidProtobuf, Fail, ...), one per problem
        raise Refused(f"{path}: not an ONNX model that onnxruntime loads ({type(e).__name__})") from None
    facts = loaded.get_modelmeta().custom_metadata_map
    if "mel_convention" not in facts:
        raise Refused(f"{path}: records no mel facts (exported before they were recorded: export it again)")
    return loaded, facts


def require_file(path: str) -> None:
    """An input that is not a file: one line naming it, not the traceback of the library that opens it."""
    if os.path.isdir(path):
        raise Refused(f"{path}: is a directory, expected a file")
    if not os.path.isfile(path):
        raise Refused(f"{path}: no such file")


def check_pair(frontend: str, frontend_facts: dict, model: str, model_facts: dict) -> None:
    """The front-end must be a front-end, the model no front-end, and the front-end must compute the mel the model
    takes: each fact both files record is the same (rate, hop, bins, convention, floor, framing, mel_stats; not
    their io or config), and a mismatch names every one that differs."""
    if "min_samples" not in frontend_facts:
        raise Refused(f"{frontend}: not a mel front-end (write one with hifigan export --frontend)")
    if "min_samples" in model_facts:  # it takes audio, not a mel: onnxruntime would fail on the missing input
        raise Refused(f"{model}: a mel front-end, not a model (give the model NAME.onnx beside NAME.mel.onnx)")
    differ = {k for k in frontend_facts.keys() & model_facts.keys() - {"io", "config"}
              if frontend_facts[k] != model_facts[k]}
    said = [k for k in SAID_FIRST if k in differ]
    if "mel" not in differ:  # else its label says the convention, floor, framing, epsilon and statistics
        said += sorted(differ - set(SAID_FIRST))
    if said:
        differences = "; ".join(f"{k} {frontend_facts[k]}, the model's {model_facts[k]}" for k in said)
        raise Refused(f"{frontend}: computes another mel than {model} takes ({differences})")


def read_wav(path: str, rate: int) -> np.ndarray:
    """A 16-bit PCM mono WAV at `rate` as float32 in [-1, 1] (int16 / 32768, as the official code reads it); a
    file that is not one, or holds fewer samples than its header promises (as `hifigan vocode` refuses it), is a
    one-line Refused naming it. A data size that a writer into a pipe leaves (0, or at least UNKNOWN_LENGTH) is
    read to the end; a WAVE_FORMAT_EXTENSIBLE header of PCM samples is read as plain PCM. A RIFF WAV with more
    than 4 GiB after its data chunk's header (past_riff) is refused before a byte of its samples is read."""
    require_file(path)
    try:
        if past_riff(path):
            raise Refused(f"{path}: RIFF WAV past 4 GiB, more than its 32-bit sizes can say: it would be read short "
                          "(split it into WAVs under 4 GiB: ffmpeg -ignore_length 1 -i IN.wav -c:a copy -f segment "
                          "-segment_time 3600 OUT%03d.wav)")
        with open(path, "rb") as f:
            whole = f.read()
        with wave.open(io.BytesIO(repaired(whole))) as w:
            width, channels, file_rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
            if (width, channels, file_rate) != (2, 1, rate):
                layout = "mono" if channels == 1 else f"{channels} channels"
                options = " --resample" * (file_rate != rate) + " --mix-to-mono" * (channels != 1)
                raise Refused(f"{path}: need 16-bit PCM mono at {rate} Hz (it is {8 * width}-bit {layout} at "
                              f"{file_rate} Hz; {convert_hint(rate, options)})")
            promised = w.getnframes()
            data = w.readframes(promised)
    except wave.Error as e:  # `wave` reads PCM WAV only: a float or compressed WAV, or not a WAV at all
        raise Refused(f"{path}: need 16-bit PCM mono at {rate} Hz (not a PCM WAV file: {e}; {convert_hint(rate)})"
                      ) from None
    except EOFError:
        raise Refused(f"{path}: cannot read (the file ends inside its header)") from None
    except OSError as e:
        raise Refused(f"{path}: cannot read ({e.strerror or e})") from None
    held = len(data) // 2
    if held < promised and 2 * promised < UNKNOWN_LENGTH:  # `wave` reads what there is without a word
        raise Refused(f"{path}: truncated WAV: the header promises {count(promised, 'frame')}, the file holds "
                         f"{held} (an interrupted copy or download?)")
    return np.frombuffer(data[: 2 * held], "<i2").astype(np.float32) / 32768


def convert_hint(rate: int, options: str = "") -> str:
    """What turns a WAV this script refuses into one it reads (ffmpeg), or the command that reads it as it is (from
    the model's checkpoint, with `options`: --resample, --mix-to-mono), as `hifigan vocode`'s refusal names them."""
    return (f"convert it: ffmpeg -i IN.wav -ar {rate} -ac 1 -c:a pcm_s16le OUT.wav, or vocode it from the checkpoint: "
            f"hifigan vocode{options}")


def past_riff(path: str) -> bool:
    """Whether `path` is a RIFF/WAVE file with more than RIFF_LIMIT bytes after its data chunk's header: whatever
    its 32-bit sizes hold (0, 0xFFFFFFFF, a size wrapped past 2**32), `wave` would read 4 GiB at most. Reads only
    the chunk headers up to the data chunk's."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return False
        position = 12
        while len(header := f.read(8)) == 8:
            chunk, length = struct.unpack("<4sI", header)
            if chunk == b"data":
                return size - position - 8 > RIFF_LIMIT
            position += 8 + length + (length & 1)
            f.seek(position)
    return False


def repaired(data: bytes) -> bytes:
    """A WAV file's bytes as Python's `wave` reads them as `hifigan vocode` reads the file: a
    WAVE_FORMAT_EXTENSIBLE header of PCM samples (what some writers make of any WAV) relabelled as plain PCM
    (`wave` reads only the latter before 3.12; the two lay out their samples alike), and a data size of 0 with
    samples after it (sox or ffmpeg writing into a pipe) made the size of the bytes that follow. Anything else as
    it is."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return data
    fixed = bytearray(data)
    position = 12
    while position + 8 <= len(data):
        chunk, length = struct.unpack_from("<4sI", data, position)
        body = data[position + 8: position + 8 + length]
        if chunk == b"fmt " and len(body) >= 40 and struct.unpack_from("<H", body)[0] == EXTENSIBLE \
                and body[24:40] == PCM_GUID:
            struct.pack_into("<H", fixed, position + 8, 1)
        if chunk == b"data":
            if length == 0:
                struct.pack_into("<I", fixed, position + 4, min(len(data) - position - 8, 0xFFFFFFFF))
            break
        position += 8 + length + (length & 1)
    return bytes(fixed)


def write_wav(path: str, audio: np.ndarray, rate: int) -> None:
    """Float audio as 16-bit PCM: x * 32768 truncated, clipped at full scale (as `hifigan vocode` writes it). Written
    to a hidden temporary file beside `path` and renamed into place once complete: a failure leaves no partial WAV,
    and an existing file as it was."""
    # this process's name: a file left under it by a killed run (its pid since reused) is stale, and overwritten
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f, wave.open(f, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(np.clip(audio * 32768, -32768, 32767).astype("<i2").tobytes())
        os.replace(tmp, path)
    except BaseException as e:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise Refused(f"{path}: cannot write ({e.strerror or e})") from None
        raise


def same_file(a: str, b: str) -> bool:
    """Whether two existing paths name one file (an output that would overwrite an input)."""
    return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)


def count(n: int, noun: str) -> str:
    """`n` and `noun` in agreement ("1 sample", "24 samples"): hifigan.messages.plural.count's rule, kept here because
    this file imports nothing of hifigan."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def main(frontend: str, model: str, wav_in: str, wav_out: str) -> None:
    for given in (frontend, model, wav_in):
        if same_file(given, wav_out):
            raise Refused(f"{wav_out}: the output would overwrite the input {given} (choose another OUT.wav)")
    mel_session, mel_facts = session(frontend)
    model_session, model_facts = session(model)
    check_pair(frontend, mel_facts, model, model_facts)
    audio = read_wav(wav_in, int(mel_facts["sampling_rate"]))
    if len(audio) < int(mel_facts["min_samples"]):
        raise Refused(f"{wav_in}: too short: {count(len(audio), 'sample')}, need at least "
                         f"{mel_facts['min_samples']}")
    mel = mel_session.run(["mel"], {"audio": audio[None]})[0]
    write_wav(wav_out, model_session.run(["audio"], {"mel": mel})[0][0], int(mel_facts["sampling_rate"]))


if __name__ == "__main__":
    if len(sys.argv) != 5:
        print(f"usage: python {sys.argv[0]} NAME.mel.onnx NAME.onnx IN.wav OUT.wav", file=sys.stderr)
        sys.exit(2)
    try:
        main(*sys.argv[1:])
    except Refused as refused:
        print(refused, file=sys.stderr)
        sys.exit(2)
