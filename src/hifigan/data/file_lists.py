"""A training or validation file list's entries: LJSpeech-style `id|text` lines, or a Kaldi / ESPnet `wav.scp`
(`utt-id path` lines, told by its name); its text UTF-8, or UTF-16 / UTF-32 by a byte-order mark."""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hifigan.audio import AUDIO_SUFFIXES
from hifigan.data.real_files import identities
from hifigan.data.segments import Segment
from hifigan.errors import HifiganError
from hifigan.messages import plural

# The byte-order marks a list is decoded by (Notepad's "Unicode", PowerShell 5's `>`): UTF-32 LE's first, as it
# begins with UTF-16 LE's. Without one a list is UTF-8 (its own mark, EF BB BF, is no part of the first id).
MARKS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
SAVE_AS = "save it as UTF-8, or UTF-16 with its byte-order mark"
# A wav.scp entry that is no file: a Kaldi archive (`ark:...`, `scp:...`, with options `ark,s,cs:`) or an offset
# into one (`/x/wav.ark:1234`, a byte range `[...]` after it).
ARCHIVE = re.compile(r"^(ark|scp)(,\w+)*:|\.ark:\d+(\[[^\]]*\])?$")
# A wav.scp line's shape: an id (no `|`, so not an `id|text` line), blanks, a path ending in an audio suffix.
SCP_LINE = re.compile(r"^[^|\s]+\s+[^|]*(" + "|".join(re.escape(s) for s in AUDIO_SUFFIXES) + r")\s*$",
                      re.IGNORECASE)


def is_wav_scp(path: Path) -> bool:
    """Whether a list is a Kaldi / ESPnet wav.scp: by its name, `*.scp` (`wav.scp`, as both write it); any other is
    read as `id|text` lines, so a list of ids alone that hold spaces keeps its meaning."""
    return path.suffix.lower() == ".scp"


def shaped_as_wav_scp(path: Path) -> bool:
    """Whether a list not named .scp has every line of a wav.scp (`utt-id /x/a.wav`): one saved as `wav.txt` or
    `train.list` is read as ids, which then name no file, and the refusal says to name it .scp."""
    if is_wav_scp(path):
        return False
    lines = [line for line in text_lines(path)[0] if line.strip()]
    return bool(lines) and all(SCP_LINE.match(line) for line in lines)


def list_entries(path: Path, wav_root: Path, ids: dict[str, Path] | None = None
                 ) -> tuple[dict[Path, int], list[HifiganError], int]:
    """Each file a list names (the file -> its line), every problem of the list (one per bad line, or the list's
    own: unreadable, not text in its encoding, no entries) and how many entries it holds. An `id|text` id is
    wav_root/<id>.wav (its suffix kept where it is an audio one); a wav.scp path is taken as it is, a relative one
    from wav_root; a piped command or an archive in it is refused, as a file or a wav.scp id listed twice is.
    `ids` gets a wav.scp's id -> file (a segments file's recording ids)."""
    lines, problems = text_lines(path)
    if problems:
        return {}, problems, 1
    scp = is_wav_scp(path)
    files: dict[Path, int] = {}
    utts: dict[str, int] = {}  # a wav.scp's ids: keys to Kaldi, so each names one clip
    entries = entry_lines(lines)
    for number, line in entries:
        name, problem = _scp_entry(line) if scp else _id_entry(line)
        if problem:
            problems.append(HifiganError(path, f"line {number}: {problem}"))
        elif (first := files.setdefault(wav_root / name, number)) != number:
            problems.append(HifiganError(path, f"line {number}: {name if scp else line.split('|', 1)[0].strip()!r} "
                                               f"is listed on line {first} too (list each clip once)"))
        elif scp and (first := utts.setdefault(utt := line.split(None, 1)[0], number)) != number:
            problems.append(HifiganError(path, f"line {number}: utterance id {utt!r} is on line {first} too "
                                               "(a wav.scp's ids are keys: give each clip its own)"))
        elif scp and ids is not None:
            ids[utt] = wav_root / name
    if not files and not problems:
        problems.append(HifiganError(path, "file list holds no entries"))
    return files, problems, max(len(entries), 1)


def ids_in_both(train: Path, train_ids: Mapping[str, tuple[int, Any]], valid: Path,
                valid_ids: Mapping[str, tuple[int, Any]]) -> list[HifiganError]:
    """An utterance id of the validation wav.scp (or segments) that the training one gives to another clip, each a
    problem naming both lines: ids are keys (a held-out segment is known by its id), so one id cannot be two clips.
    An id of one clip in both is no problem: it is held out (Corpus.split), as a file in both lists is."""
    problems = []
    for utt in sorted(train_ids.keys() & valid_ids.keys(), key=lambda u: valid_ids[u][0]):
        (train_line, train_clip), (valid_line, valid_clip) = train_ids[utt], valid_ids[utt]
        same, other = identities([train_clip, valid_clip])
        if same != other:  # each named by the file its line is in: a segments file, else the wav.scp
            here, there = (c.source if isinstance(c, Segment) else f for c, f in ((valid_clip, valid),
                                                                                   (train_clip, train)))
            problems.append(HifiganError(here, f"line {valid_line}: utterance id {utt!r} is on line {train_line} of "
                                               f"{there} too, for another clip ({train_clip} there, {valid_clip} "
                                               "here): ids are keys; give each clip its own"))
    return problems


def _id_entry(line: str) -> tuple[str, str]:
    """An `id|text` line's file name within wav_root (its id, .wav added unless it ends in an audio suffix), or
    the problem with the line."""
    clip_id = line.split("|", 1)[0].strip()
    if not clip_id:
        return "", "empty id (expected 'id|text')"
    return (clip_id if Path(clip_id).suffix.lower() in AUDIO_SUFFIXES else f"{clip_id}.wav"), ""


def _scp_entry(line: str) -> tuple[str, str]:
    """A wav.scp line's path (what follows the utterance id and its blanks, as Kaldi reads it), or the problem."""
    utt, *rest = line.split(None, 1)
    where = rest[0].strip() if rest else ""
    if not where:
        return "", f"{utt!r} has no path (expected 'utt-id path', a Kaldi wav.scp)"
    if where.endswith("|"):
        return "", (f"{utt!r} is a piped command ({where!r}): hifigan runs no commands; write its audio to a file "
                    "(ESPnet: scripts/audio/format_wav_scp.sh) and list that")
    if ARCHIVE.search(where):
        return "", (f"{utt!r} is read from a Kaldi archive ({where!r}): hifigan reads audio files; write its audio "
                    "to a file and list that")
    return where, ""


def entry_lines(lines: Sequence[str]) -> list[tuple[int, str]]:
    """A list's entries: each line that is not blank, with its number from 1 (what the refusals name). A file list,
    a wav.scp, a segments file and an utt2spk are read so."""
    return [(number, line) for number, line in enumerate(lines, 1) if line.strip()]


def text_lines(path: Path) -> tuple[list[str], list[HifiganError]]:
    """A list's lines, decoded by its byte-order mark (else as UTF-8), or the one problem that stops it being read:
    missing, unreadable, or not text in its encoding (the first bad line named, and how many more there are)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], [HifiganError(path, "no such file list")]
    except OSError as e:
        return [], [HifiganError(path, f"cannot read file list ({e.strerror or e})")]
    codec = next((codec for mark, codec in MARKS if data.startswith(mark)), None)
    try:  # without a mark, a byte that is not UTF-8 is kept as a lone surrogate (said below, with its line)
        text = data.decode(codec) if codec else data.decode("utf-8-sig", "surrogateescape")
    except UnicodeDecodeError as e:  # an odd byte count, a lone surrogate
        line = len((data[:e.start].decode(codec, "replace") + "-").splitlines())
        return [], [HifiganError(path, f"not {codec.upper()} text, as its byte-order mark says: line {line} "
                                       f"({e.reason}); {SAVE_AS}")]
    lines = text.splitlines()
    bad = [(number, column) for number, line in enumerate(lines, 1) if (column := _first_bad(line))]
    if not bad:
        return lines, []
    number, column = bad[0]
    char = lines[number - 1][column - 1]
    what, guess = (("a NUL byte", "no path holds one" if codec else "UTF-16 without its byte-order mark?")
                   if char == "\0" else (f"byte {ord(char) - 0xDC00:#04x}", "Latin-1 or Windows-1252?"))
    others = len(bad) - 1
    more = f", as {plural.count(others, 'other line')} {plural.agree(others, 'does', 'do')}" if others else ""
    head, tail = ("", "") if codec else ("not UTF-8 text: ", f"; {SAVE_AS}")
    return [], [HifiganError(path, f"{head}line {number} holds {what} at column {column}{more} ({guess}){tail}")]


def _first_bad(line: str) -> int:
    """The column (from 1) of a line's first byte that was not UTF-8 (a lone surrogate, as surrogateescape keeps
    it) or NUL (what no path holds), else 0."""
    try:
        line.encode("utf-8")
        first = len(line)
    except UnicodeEncodeError as e:
        first = e.start
    nul = line.find("\0")
    first = min(first, nul) if nul >= 0 else first
    return first + 1 if first < len(line) else 0
