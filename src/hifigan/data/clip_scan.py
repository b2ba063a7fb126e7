"""Read every file once before training, so a bad file is skipped and counted up front, never a crash mid-epoch:
the usable clips (path, length, optional teacher-forced mel) and every file skipped or suspicious."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hifigan.audio import check_format
from hifigan.config import HifiganConfig
from hifigan.data.mel_frames import MelCount, frames_mismatch, with_hop_drift
from hifigan.data.scan_cache import FileFacts, gather_facts
from hifigan.data.scan_row import EMPTY, FORMAT, PAST, UNREADABLE, ReadSettings
from hifigan.data.segments import clip_noun, recording_of
from hifigan.data.teacher_mels import MelFolder, load_teacher_mel
from hifigan.errors import HifiganError, bad_inputs
from hifigan.files.paths import differing_in_case
from hifigan.melconv.model import ModelMel
from hifigan.messages.plural import agree, count

# A file that never reaches -60 dBFS (about 33 int16 steps) holds silence, dither or a noise floor, not speech:
# peak normalisation would make it full-scale noise.
SILENCE_PEAK = 10 ** (-60 / 20)
CLIP_FRACTION = 1e-3  # warn when more than 0.1% of the frames are clipped (scan_row.clipped_share)


@dataclass(slots=True)
class Clip:
    """One usable file (or a segment of one: hifigan.data.segments): its path, an id for logs, its length in
    samples at the model rate and an optional teacher-forced mel (its convention is the run's: VocoderDataset's
    `mel_convention`)."""

    path: Path
    num_samples: int
    mel_path: Path | None = None

    @property
    def id(self) -> str:
        return self.path.stem


@dataclass
class ScanReport:
    """The outcome of scanning a file set: the usable clips and every file that was skipped or suspicious."""

    clips: list[Clip] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # unreadable or empty
    short: list[tuple[Path, str]] = field(default_factory=list)  # n_fft samples or fewer
    clipping: list[Path] = field(default_factory=list)
    silent: list[Path] = field(default_factory=list)
    bad: list[HifiganError] = field(default_factory=list)  # files that stop the run (format, teacher-forced mel)
    mels: list[MelCount] = field(default_factory=list)  # every teacher-forced mel read: hifigan.data.mel_frames

    def summary(self, what: str) -> str:
        parts = [f"{what}: {count(len(self.clips), 'clip')}"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} unreadable or empty skipped")
        if self.short:
            parts.append(f"{len(self.short)} too short skipped")
        if self.silent:
            parts.append(f"{len(self.silent)} silence-only skipped")
        if self.clipping:
            parts.append(f"{len(self.clipping)} clipping (kept)")
        return ", ".join(parts)


def classify(row: np.void, config: HifiganConfig) -> str:
    """What the scan makes of a file's facts: "unreadable", "empty", "format" (rate or channels need an option),
    "past" (a segment outside its recording), "short", "silent" or "usable"."""
    status = int(row["status"])
    if status in (UNREADABLE, EMPTY, FORMAT, PAST):
        return {UNREADABLE: "unreadable", EMPTY: "empty", FORMAT: "format", PAST: "past"}[status]
    if int(row["samples"]) <= config.n_fft:  # the front-end needs more than (n_fft - hop) / 2 samples; a margin
        return "short"
    return "silent" if row["peak"] < SILENCE_PEAK else "usable"


def scan_clips(
    files: Sequence[Path],
    config: HifiganConfig,
    *,
    resample: bool = False,
    mix_to_mono: bool = False,
    input_mels: Path | None = None,
    mel_convention: str | None = None,
    what: str = "training set",
    facts: FileFacts | None = None,
    cli: bool,
) -> ScanReport:
    """Read every file once before training, so a bad file is skipped and counted, never a crash mid-epoch.

    Unreadable, empty or too short files are skipped; silence-only files are skipped (normalising them would turn
    noise into full-scale audio); clipping files are kept. A sample rate other than the config's, or
    more than one channel, is an error unless `resample` / `mix_to_mono` is given (named as `cli` says: `--resample`
    for the command line, else `resample=True`; option_names), as is a missing or malformed
    teacher-forced mel, or one whose frames do not match its audio, alone or across the set
    (hifigan.data.mel_frames): one error naming every such file (hifigan.errors.bad_inputs).
    Warnings are issued once, with counts and the first few names. `facts`: what hifigan.data.scan_cache learnt
    of these files (a cache, another rank); without them the files are read now. One file list's scan (the
    benchmarks' and the tests'; a training run's corpus is scanned by hifigan.data.corpus_scan, through sort_clips).
    """
    mels = MelFolder(input_mels, cli) if input_mels is not None else None
    report = sort_clips(files, config, resample=resample, mix_to_mono=mix_to_mono, input_mels=mels,
                        mel_convention=mel_convention, what=what, facts=facts, cli=cli)
    if problems := with_hop_drift(report.bad, report.mels, config, input_mels):
        raise bad_inputs(problems, len(files))
    if mels is not None:
        mels.warn_unlike(ModelMel.of(config))
    return finish_scan(report, what)


def sort_clips(
    files: Sequence[Path], config: HifiganConfig, *, resample: bool = False, mix_to_mono: bool = False,
    input_mels: Path | MelFolder | None = None, mel_convention: str | None = None, what: str = "training set",
    facts: FileFacts | None = None, verdicts: Sequence[str] | None = None, cli: bool,
) -> ScanReport:
    """scan_clips' verdict on each file, every file that stops the run collected in `bad` (not raised), for a
    caller that reports them with other sets' (hifigan.data.corpus_scan, which passes one MelFolder to both sets);
    finish_scan completes it. `verdicts`: classify's of `facts`' rows, where the caller has them (else classified
    here). `cli` False: a format problem's hint names the TrainOptions field (option_names)."""
    if facts is None:
        facts = gather_facts(files, ReadSettings(config.sampling_rate, resample, mix_to_mono), progress=False)
    if len(facts.rows) != len(files):
        raise HifiganError(None, f"{what}: facts for {count(len(facts.rows), 'file')}, "
                                 f"{count(len(files), 'file')} given")
    report = ScanReport()
    model = ModelMel.of(config) if input_mels is not None else None
    mels = MelFolder.of(input_mels, cli) if input_mels is not None else None
    for i, path in enumerate(files):
        row = facts.rows[i]
        verdict = classify(row, config) if verdicts is None else verdicts[i]
        if verdict == "unreadable":
            report.skipped.append((path, facts.problems[i]))
            continue
        if verdict == "empty":
            report.skipped.append((path, "contains no audio samples"))
            continue
        if verdict == "past":  # a segments file's line at fault, as a bad list line is: it stops the run
            report.bad.append(path.past_end(int(row["rate"]), int(row["frames"])))
            continue
        try:  # a format problem stops the run: it applies to the whole corpus
            check_format(path, int(row["channels"]), int(row["rate"]), config.sampling_rate, resample=resample,
                         mix_to_mono=mix_to_mono, cli=cli)
        except HifiganError as e:
            report.bad.append(e)
            continue
        samples = int(row["samples"])
        if verdict == "short":  # samples counts the clip at the model rate: said where that is not the file's own
            at = f" once resampled to {config.sampling_rate} Hz" if int(row["rate"]) != config.sampling_rate else ""
            report.short.append((path, f"too short ({count(samples, 'sample')}{at}, need more than {config.n_fft})"))
            continue
        if verdict == "silent":
            report.silent.append(path)
            continue
        if row["clipped"] > CLIP_FRACTION:
            report.clipping.append(path)
        mel_path = None
        if mels is not None:
            mel_path = mels.mel_path(path)
            try:
                mel = load_teacher_mel(mel_path, model, mel_convention, cli=mels.cli)  # missing or malformed: an error
            except HifiganError as e:
                report.bad.append(mels.explained(e, mel_path))
                continue
            mels.judge(mel_path, mel, model, mel_convention)
            report.mels.append(counted := MelCount(mel_path, mel.shape[1], samples))
            if problem := frames_mismatch(counted, config):
                report.bad.append(problem)
                continue
        report.clips.append(Clip(path, samples, mel_path))
    return report


def finish_scan(report: ScanReport, what: str, listing: Path | None = None) -> ScanReport:
    """A sorted set with no file that stops the run: its warnings said (naming `listing`, the file that lists every
    skipped file, when there is one), an error if no clip is usable."""
    _warn(report, what, listing)
    if not report.clips:
        raise HifiganError(None, f"{what}: no usable audio files ({len(report.skipped) + len(report.short)} "
                                 f"skipped, {len(report.silent)} silent)")
    return report


def _with_twin(path: Path, why: str) -> str:
    """A shown file's reason, with the file beside it differing in case alone when it is missing."""
    twin = differing_in_case(recording_of(path)) if why == "no such file" else None
    return f"{why}; {twin}" if twin else why


def _warn(report: ScanReport, what: str, listing: Path | None) -> None:
    noun = clip_noun([*(p for p, _ in report.skipped + report.short), *report.silent, *report.clipping])
    listed = f" (every skipped {noun}, with why: {listing})" if listing is not None else ""
    groups = (
        (report.skipped, lambda n: f"skipped {count(n, f'unreadable or empty {noun}')}", listed),
        (report.short, lambda n: f"skipped {count(n, noun)} too short to train on", listed),
        ([(p, "") for p in report.silent], lambda n: f"skipped {count(n, f'silence-only {noun}')}", listed),
        ([(p, "") for p in report.clipping], lambda n: f"{count(n, noun)} {agree(n, 'clips', 'clip')} (kept)", ""),
    )
    for items, message, where in groups:
        if items:
            shown = "; ".join(f"{p} ({_with_twin(p, why)})" if why else str(p) for p, why in items[:3])
            more = (" ..." if len(items) > 3 else "") + where
            warnings.warn(f"{what}: {message(len(items))}: {shown}{more}", stacklevel=4)
