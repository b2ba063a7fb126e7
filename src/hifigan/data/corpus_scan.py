"""A corpus read for training: every file's facts once, the held-out files drawn among the usable ones (so a bad
file is never the validation clip while good ones go unused), and each part scanned."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hifigan.config import HifiganConfig
from hifigan.data.clip_scan import ScanReport, classify, finish_scan, sort_clips
from hifigan.data.corpus import Corpus, held_apart
from hifigan.data.file_lists import is_wav_scp, shaped_as_wav_scp
from hifigan.data.held_out_draw import HeldOut
from hifigan.data.mel_frames import with_hop_drift
from hifigan.data.resumed_split import keep_held_out
from hifigan.data.scan_cache import FileFacts
from hifigan.data.segments import recording_of
from hifigan.data.skipped_list import skipped_rows, write_skipped
from hifigan.data.teacher_mels import MelFolder
from hifigan.errors import HifiganError, bad_inputs, in_path_order
from hifigan.files.paths import differing_in_case
from hifigan.melconv.model import ModelMel
from hifigan.messages.option_names import flag, setting
from hifigan.messages.plural import agree, count


@dataclass
class ScannedCorpus:
    """The split (`held`), each part's scan, and every file with its facts (in one order: what a cache saves) and
    its name within the corpus (Corpus.keys: the held-out draw's, the checkpoint's held-out keys and digest)."""

    held: HeldOut
    train: ScanReport
    valid: ScanReport
    files: list[Path]
    facts: FileFacts
    keys: dict[Path, str]

    def converted(self, rate: int) -> str:
        """What --resample and --mix-to-mono change (their rows' rate and channels, as stored), for the scan line:
        the usable clips, and apart the files they changed that were skipped after (too short at the model rate, or
        silence only), so that every file an option changed is counted once: "; 3 clips resampled to 22050 Hz (1 up
        from 16000 Hz, 2 down from 48000 Hz) and 1 file resampled then skipped (1 too short); 1 clip mixed to mono",
        or "" where they change none."""
        index = {f: i for i, f in enumerate(self.files)}
        parts = (self.train, self.valid)
        kept = self.facts.rows[[index[c.path] for part in parts for c in part.clips]]
        skipped = {why: self.facts.rows[[index[p] for part in parts for p in paths(part)]]
                   for why, paths in SKIPPED_AFTER_READING.items()}
        rates = Counter(int(r) for r in kept["rate"] if r != rate)
        froms = ", ".join(f"{n} {'up' if r < rate else 'down'} from {r} Hz" for r, n in sorted(rates.items()))
        said = [_changed(f"resampled to {rate} Hz", rates.total(), f" ({froms})",
                         {why: int((rows["rate"] != rate).sum()) for why, rows in skipped.items()}),
                _changed("mixed to mono", int((kept["channels"] > 1).sum()), "",
                         {why: int((rows["channels"] > 1).sum()) for why, rows in skipped.items()})]
        return "".join(f"; {part}" for part in said if part)


# The files the scan read and then skipped, by why, as each part's ScanReport lists them
SKIPPED_AFTER_READING: dict[str, Callable[[ScanReport], list[Path]]] = {
    "too short": lambda report: [p for p, _ in report.short],
    "silence-only": lambda report: list(report.silent),
}


def _changed(done: str, kept: int, detail: str, skipped: dict[str, int]) -> str:
    """'3 clips resampled to 8000 Hz (detail) and 2 files resampled then skipped (1 too short, 1 silence-only)',
    of `kept` usable clips an option changed and the files it changed that were `skipped` (by why); '' of none."""
    said = [f"{count(kept, 'clip')} {done}{detail}"] if kept else []
    if whys := ", ".join(f"{n} {why}" for why, n in skipped.items() if n):
        said.append(f"{count(sum(skipped.values()), 'file')} {done if not kept else done.split()[0]} then skipped "
                    f"({whys})")
    return " and ".join(said)


def _shared_stems(files: Sequence[Path], mels: MelFolder) -> list[HifiganError]:
    """Teacher-forced mels are found by stem (<stem>.npy, as the official code does): two files of one stem, in two
    speakers' folders or as .wav and .flac, would both train against one mel."""
    first: dict[str, Path] = {}
    problems = []
    for path in files:
        if (other := first.setdefault(path.stem, path)) != path:
            problems.append(HifiganError(path, f"has the stem of {other}: both would take the mel "
                                               f"{mels.mel_path(path)} ({flag('input_mels', mels.cli)} finds mels by "
                                               "stem); rename one"))
    return problems


# What each scan verdict (clip_scan.classify) calls a file that cannot train, in a count.
UNUSABLE = {"unreadable": "unreadable", "empty": "empty", "short": "too short", "silent": "silent"}


def why_unusable(files: Sequence[Path], verdicts: Sequence[str]) -> str:
    """The files that cannot train counted per reason, each with an example: "8 missing, e.g. /x/a.wav"."""
    groups: dict[str, list[Path]] = {}
    for path, verdict in zip(files, verdicts):
        if verdict in UNUSABLE:
            reason = "missing" if verdict == "unreadable" and _missing(path) else UNUSABLE[verdict]
            groups.setdefault(reason, []).append(path)
    return "; ".join(f"{len(paths)} {reason}, e.g. {paths[0]}{_twin(paths[0], reason == 'missing')}"
                     for reason, paths in groups.items())


def _missing(path: Path) -> bool:
    """Whether nothing is at `path` (not a file that cannot be stat'ed: its folder not searchable, an I/O error)."""
    try:
        return not recording_of(path).exists()
    except OSError:
        return False


def _twin(path: Path, missing: bool) -> str:
    """" (a file differing in case: C0.WAV)" after a missing file's name where there is one, else ""."""
    return f" ({twin})" if missing and (twin := differing_in_case(recording_of(path))) else ""


def too_few_usable(corpus: Corpus, files: Sequence[Path], verdicts: Sequence[str], drawn: bool) -> None:
    """Refuse a corpus with too few usable files (2 to draw a held-out clip, else 1), saying why the others are
    not: a wrong --wav-root shows as every file missing."""
    usable = sum(v not in UNUSABLE for v in verdicts)
    need = 2 if drawn and corpus.valid_count != 0 else 1
    if usable >= need:
        return
    what = "to hold out a validation clip" if need == 2 else "to train on"
    raise HifiganError(None, f"need at least {count(need, 'usable audio file')} {what} ({usable} of {len(files)} "
                             f"{agree(usable, 'is', 'are')} usable: {why_unusable(files, verdicts) or 'none found'})"
                             f"{_root_hint(corpus, files)}")


def _root_hint(corpus: Corpus, files: Sequence[Path]) -> str:
    """A file list's ids (a wav.scp's relative paths) were looked up beside the list (no --wav-root) and none is
    there: say where to point; or a list shaped as a wav.scp, not named one, was read as ids: say to name it .scp."""
    if corpus.train_list is None or not all(map(_missing, files)):
        return ""
    if shaped := [str(p) for p in (corpus.train_list, corpus.valid_list) if p is not None and shaped_as_wav_scp(p)]:
        return (f"; {' and '.join(shaped)} {agree(len(shaped), 'looks', 'look')} like a Kaldi wav.scp ('utt-id "
                f"path' lines) but {agree(len(shaped), 'was', 'were')} read as 'id|text' lines (a wav.scp is told by "
                f"its name): name {agree(len(shaped), 'it', 'them')} ending .scp, as wav.scp is")
    if corpus.wav_root is not None:
        return ""
    root, folder = flag("wav_root", corpus.cli), corpus.train_list.parent
    if not is_wav_scp(corpus.train_list):
        return (f"; a file list's ids are looked up in its own folder {folder} unless {root} names where the WAVs "
                f"are (LJSpeech: {setting('wav_root', Path('LJSpeech-1.1/wavs'), corpus.cli)})")
    if not any(recording_of(f).is_relative_to(folder) for f in files):  # absolute paths, gone: no root would find them
        return ""
    return (f"; a wav.scp's relative paths start from its own folder {folder} unless {root} names the folder they "
            "start from (Kaldi's and ESPnet's: the recipe's folder, which holds data/)")


def scan_corpus(corpus: Corpus, config: HifiganConfig, facts_of: Callable[[list[Path]], FileFacts], *,
                resample: bool = False, mix_to_mono: bool = False, input_mels: Path | None = None,
                mel_convention: str | None = None, held_out: Sequence[str] | None = None,
                skipped_list: Path | None = None, scan_kept: bool = False, utterances: bool = True) -> ScannedCorpus:
    """Split `corpus` with config.seed among its usable files (or keep a resumed run's `held_out` keys) and scan
    both parts; `facts_of(files)` reads the files' facts (a cache, or rank 0's on other ranks). Every file that
    stops the run, in either part, is named in one error (hifigan.errors.bad_inputs). `skipped_list`: a TSV file
    rewritten with every file skipped, and why (hifigan.data.skipped_list), which the warnings name. `scan_kept`:
    `facts_of` saved a cache of what it read (train's), which the error then says was written. `utterances` False:
    the resumed run drew each file alone (keep_held_out)."""
    lists = corpus.lists()  # a large folder is walked once
    files = corpus.listed(lists)
    mels = MelFolder(input_mels, corpus.cli) if input_mels is not None else None  # listed at the first missing mel
    shared = _shared_stems(files, mels) if mels is not None else []
    facts = facts_of(files)
    # a file at another rate or channel count is drawn like a usable one: the scan then stops on it, naming it
    verdicts = [classify(row, config) for row in facts.rows]
    too_few_usable(corpus, files, verdicts, drawn=lists[1] is None)
    usable = {f for f, verdict in zip(files, verdicts) if verdict in ("usable", "format", "past")}
    keys = dict(zip(files, corpus.keys(files)))  # each file named once, for the draw and the checkpoint
    held = corpus.split(config.seed, usable, lists, keys, apart=held_out is None)
    if held_out is not None:  # the run's own held-out files, whatever the corpus holds now, and what overlaps them
        held = held_apart(keep_held_out(corpus, held, held_out, utterances, keys))
    index = {f: i for i, f in enumerate(files)}
    kw = dict(resample=resample, mix_to_mono=mix_to_mono, input_mels=mels, mel_convention=mel_convention,
              cli=corpus.cli)
    parts = [[index[f] for f in part] for part in (held.train, held.valid)]  # each file classified once, above
    train, valid = (sort_clips(part, config, **kw, what=what, facts=facts.take(at), verdicts=[verdicts[i] for i in at])
                    for part, at, what in zip((held.train, held.valid), parts, ("training set", "validation set")))
    placed = {*held.train, *held.valid}  # the others: training segments that hold held-out audio, in neither part
    apart = [index[f] for f in files if f not in placed]  # their bad lines are the data's: named all the same
    left = sort_clips([files[i] for i in apart], config, **{**kw, "input_mels": None}, facts=facts.take(apart),
                      verdicts=[verdicts[i] for i in apart]) if apart else None
    problems = in_path_order([*shared, *train.bad, *(left.bad if left else []), *valid.bad])  # the first named first
    if problems := with_hop_drift(problems, [*train.mels, *valid.mels], config, input_mels):
        raise bad_inputs(problems, len(files), scan_kept=scan_kept)
    if mels is not None:
        mels.warn_unlike(ModelMel.of(config))
    if skipped_list is not None:  # before the warnings that name it, and the error when no file is usable
        write_skipped(skipped_list, skipped_rows([train, valid]))
    valid = finish_scan(valid, "validation set", skipped_list) if held.valid else valid  # none held out: no validation
    return ScannedCorpus(held, finish_scan(train, "training set", skipped_list), valid, files, facts, keys)
