"""The library of `hifigan demo` (the command's options: cli/demo.py): train a small model on the bundled clips
for a few minutes, then show what it learned.

Everything happens at the config's rate: the corpus is resampled to it (soxr) where it is at another, and the
clips, scores, report and page are at that rate. The budget goes mostly to a generator-only warm-up on the mel
loss (it learns fastest per CPU second), then to full GAN training for the rest; the held-out clips are vocoded
before and after and scored with every metric of hifigan.evaluation.metrics; the mean (95% CI) of each at the
start and the end is printed and written as markdown and JSON (hifigan.demo.tables), with the end state's
evaluation report (hifigan.evaluation.output's JSON + PNG) and one HTML page to listen to the clips at the start and
the end beside the recordings (hifigan.evaluation.report.page). The installed pretrained models (hifigan.pretrained)
vocode the same clips, in the same table and page, as what good sounds like (hifigan.demo.clips).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from hifigan.audio import save_audio
from hifigan.config import HifiganConfig
from hifigan.demo import VALID_COUNT_WHY
from hifigan.demo.clips import Vocoded, pretrained_clips, score_clips, vocode_clips
from hifigan.demo.tables import format_table, resampled_note, score_table, summary_table
from hifigan.errors import HifiganError
from hifigan.files.atomic import atomic_path
from hifigan.files.output_folders import prepare_output_dir
from hifigan.mel import MelSpectrogram
from hifigan.messages.plural import count

if TYPE_CHECKING:
    from hifigan.data.scan_row import ReadSettings
    from hifigan.evaluation.results import Report

# What a demo writes in its folder (besides each pretrained model's clips, named for it, and the *_mel.png):
RUN = "run"  # the training run (checkpoints, logs)
GENERATED, START, REFERENCE = "generated", "start", "reference"  # the held-out clips at the end, the start, recorded
CLIP_FOLDERS = (GENERATED, START, REFERENCE)
RESULTS_MD, RESULTS_JSON, EVALUATION_PAGE = "results.md", "results.json", "evaluation.html"
PAGES = (RESULTS_MD, RESULTS_JSON, EVALUATION_PAGE)


def clips_report(out: Path, folder: str, clips: list[Vocoded], scores: list[dict[str, float]],
                 config: HifiganConfig, seconds: float, when: str, read: ReadSettings) -> Report:
    """The clips written to out/<folder>/ as a `hifigan evaluate` Report against out/reference/, recording as
    evaluate does how the audio was read (`read`: the corpus's, resampled to the config's rate)."""
    from hifigan.evaluation.evaluate import report_settings
    from hifigan.evaluation.provenance import read_record
    from hifigan.evaluation.results import FileResult, Report, aggregate

    sr = config.sampling_rate
    files = [FileResult(c.clip, str(out / REFERENCE / f"{c.clip}.wav"), str(out / folder / f"{c.clip}.wav"),
                        len(c.reference) / sr, 0, s, formats=c.formats(sr)) for c, s in zip(clips, scores)]
    settings = {**report_settings(config, list(scores[0])),
                **read_record(files, sr, resample=read.resample, mix_to_mono=read.mix_to_mono),
                "source": f"hifigan demo: held-out clips at the {when} of training (scored before int16 rounding)"}
    return Report(files, aggregate(scores, sampling_rate=sr), settings, seconds)


def write_end_report(out: Path, report: Report, config: HifiganConfig) -> tuple[Path, Path]:
    """The end state as a `hifigan evaluate` report (out/evaluation.json + .png) of the written wavs' pairs."""
    from hifigan.evaluation.output import report_paths, write_report

    paths = report_paths(out)
    write_report(report, paths, config, cli=True)  # the demo is a command: its messages name options
    return paths


def earlier_demo(out: Path) -> list[str]:
    """What an earlier demo left in `out` (its run, clip folders, reports): a new demo refuses such a folder rather
    than mix its files with the old ones (`evaluate` and `listen` pair clips by name) or delete them."""
    from hifigan.pretrained import MODELS

    names = [RUN, *CLIP_FOLDERS, *MODELS, *PAGES]
    return [n for n in names if (out / n).exists()]


def run_demo(
    corpus: Path,
    out: Path,
    *,
    minutes: float = 9.0,
    config: str | HifiganConfig = "v3",
    batch_size: int = 4,
    segment_size: int | None = None,
    valid_count: int = 3,
    gan_fraction: float = 0.15,
    device: str = "cpu",
    seed: int | None = None,
    progress: bool | None = None,
    quiet: bool = False,
) -> list[dict[str, Any]]:
    """Train for `minutes` in all (warm-up, then GAN), vocode the held-out clips, write wavs, PNGs, tables."""
    from hifigan.audio import audio_info
    from hifigan.config import config_from_dict, load_config
    from hifigan.config.values import integer_problem, number_problem
    from hifigan.data.corpus import Corpus
    from hifigan.data.corpus_scan import scan_corpus
    from hifigan.data.scan_cache import gather_facts
    from hifigan.data.scan_row import ReadSettings
    from hifigan.evaluation.metrics import require_packages
    from hifigan.evaluation.pitch import ReferenceTracks
    from hifigan.evaluation.provenance import read_record
    from hifigan.evaluation.report.page import write_page
    from hifigan.evaluation.results import aggregate, nan_to_none
    from hifigan.training.options import TrainOptions, check_counts
    from hifigan.training.reporting import mel_figure, save_figure
    from hifigan.training.trainer import Trainer

    begun = time.monotonic()
    require_packages(None)  # every metric, PESQ and STOI included ('eval' extra): fail before training
    for name, problem in (("--gan-fraction", number_problem(gan_fraction, 0, 1)),
                          ("--budget-minutes", number_problem(minutes, 0, low_open=True)),
                          ("--valid-count", integer_problem(valid_count, 1, why=VALID_COUNT_WHY))):
        if problem is not None:
            raise HifiganError(None, f"{name} {problem}")
    check_counts({"batch_size": batch_size}, cli=True)
    base = load_config(config)
    overrides: dict[str, Any] = {"batch_size": batch_size, "num_workers": 0, "disc_start_step": 10**9}
    if segment_size is not None:
        overrides["segment_size"] = segment_size
    if seed is not None:
        overrides["seed"] = seed
    cfg = config_from_dict({**base.to_dict(), **overrides}, "demo options")
    settings = ReadSettings(cfg.sampling_rate, resample=True)  # the demo runs at cfg's rate
    scanned = scan_corpus(Corpus(folder=corpus, valid_count=valid_count, cli=True), cfg,
                          lambda files: gather_facts(files, settings, progress=False), resample=True)
    train, valid = scanned.train.clips, scanned.valid.clips
    options = TrainOptions(out=out / RUN, device=device, checkpoint_interval=0, validation_interval=200,
                           log_interval=10, keep=1, progress=progress, quiet=quiet,
                           resample=True)
    # cli: its messages name options; it checks the device and the batch against the clips, and writes nothing
    trainer = Trainer(cfg, train, valid, options, cli=True)
    if earlier := earlier_demo(out):
        raise HifiganError(out, f"holds an earlier demo ({', '.join(earlier)}): remove it, or give another -o")
    prepare_output_dir(out)  # once the options and the corpus have been checked
    trainer.data_spec = {"corpus": str(Path(corpus).resolve()), "valid_count": valid_count,  # for --resume
                         "resample": True}
    say = trainer.say
    other = sorted({audio_info(c.path).samplerate for c in train + valid} - {cfg.sampling_rate})
    if other:
        say(f"demo: the corpus ({', '.join(map(str, other))} Hz) is resampled to the config's {cfg.sampling_rate} Hz")

    vocode_start = time.monotonic()
    start = vocode_clips(trainer)
    vocode_seconds = time.monotonic() - vocode_start
    tracks = ReferenceTracks()  # each recording's pitch track, computed once for every column
    start_scores = score_clips(start, cfg, tracks)
    score_seconds = time.monotonic() - vocode_start - vocode_seconds
    pretrained, notes = pretrained_clips(start, cfg)  # its time comes out of the training budget below
    pretrained_scores = {name: score_clips(clips, cfg, tracks) for name, clips in pretrained.items()}
    for note in notes:
        say(f"demo: {note}")
    # What is left after set-up, minus the final vocoding, scoring and writing (the vocoding about twice the first).
    reserve = 2 * vocode_seconds + score_seconds + min(5.0, minutes)
    budget = max(minutes * 60 - (time.monotonic() - begun) - reserve, 1.0)
    warm = budget * (1 - gan_fraction)
    say(f"demo: {len(train)} training clips, {len(valid)} held out; {budget / 60:.1f} min of training "
        f"({warm / 60:.1f} generator-only warm-up, then {(budget - warm) / 60:.1f} with the discriminators)")
    try:
        trainer.fit(max_minutes=warm / 60)
        if gan_fraction > 0:
            trainer.start_discriminators()
            say(f"demo: discriminators start at step {trainer.step}")
            trainer.fit(max_minutes=(budget - warm) / 60)
    finally:
        trainer.close()
    end = vocode_clips(trainer)
    score_start = time.monotonic()
    end_scores = score_clips(end, cfg, tracks)
    score_seconds = time.monotonic() - score_start

    frontend = MelSpectrogram(**cfg.mel_kwargs())
    for folder in (*CLIP_FOLDERS, *pretrained):  # same stems in all: `hifigan evaluate` pairs them
        prepare_output_dir(out / folder)
    for clip, before in zip(end, start):
        save_audio(out / GENERATED / f"{clip.clip}.wav", clip.generated, cfg.sampling_rate)
        save_audio(out / REFERENCE / f"{clip.clip}.wav", clip.reference, cfg.sampling_rate)
        save_audio(out / START / f"{clip.clip}.wav", before.generated, cfg.sampling_rate)
        figure = mel_figure(clip.mel, frontend(torch.from_numpy(clip.generated)).numpy(), clip.clip)
        save_figure(figure, out / f"{clip.clip}_mel.png")
    for name, clips in pretrained.items():
        for clip in clips:
            save_audio(out / name / f"{clip.clip}.wav", clip.generated, cfg.sampling_rate)
    systems = {"start": clips_report(out, START, start, start_scores, cfg, 0.0, "start", settings),
               "end": clips_report(out, GENERATED, end, end_scores, cfg, score_seconds, "end", settings)}
    for name, clips in pretrained.items():
        systems[name] = clips_report(out, name, clips, pretrained_scores[name], cfg, 0.0, name, settings)
    # how each column's audio was read, as its report and evaluate's JSON record it
    read = {when: read_record(report.files, cfg.sampling_rate, resample=settings.resample,
                              mix_to_mono=settings.mix_to_mono) for when, report in systems.items()}
    json_path, png_path = write_end_report(out, systems["end"], cfg)
    held_out = count(len(end), "held-out clip")
    html_path = write_page(out / EVALUATION_PAGE, systems, cfg, title=f"hifigan demo: {held_out} at the start and "
                           f"the end of training ({trainer.step} steps)", cli=True)
    names = [clip.clip for clip in start]
    rows = score_table(names, start_scores, end_scores, pretrained_scores)
    overview = summary_table(names, start_scores, end_scores, pretrained_scores, cfg.sampling_rate)
    per_clip = format_table(rows)
    summary = (f"after {trainer.step} steps ({trainer.state.disc_start_step if gan_fraction else 'no'} "
               f"generator-only), {(time.monotonic() - begun) / 60:.1f} min in all; "
               f"{held_out} at {cfg.sampling_rate} Hz{resampled_note(read['end'])}, mean [95% CI] at the start and "
               "the end of "
               "training"
               + (f", and vocoded by the pretrained {' and '.join(pretrained)}" if pretrained else ""))
    overview += "".join(f"\n\n{note}" for note in notes)
    with atomic_path(out / RESULTS_MD) as tmp:
        tmp.write_text(f"# hifigan demo\n\n{summary}\n\n{overview}\n\n## per clip\n\n{per_clip}\n")
    with atomic_path(out / RESULTS_JSON) as tmp:
        tmp.write_text(json.dumps(nan_to_none({
            "steps": trainer.step, "disc_start_step": trainer.state.disc_start_step,
            "sampling_rate": cfg.sampling_rate, "rows": rows,
            "summary": {when: {k: asdict(v) for k, v in aggregate(scores, sampling_rate=cfg.sampling_rate).items()}
                        for when, scores in {"start": start_scores, "end": end_scores, **pretrained_scores}.items()},
            "notes": notes, "settings": read,
        }), indent=2))
    folders = ", ".join(f"{name}/" for name in (*CLIP_FOLDERS, *pretrained))
    print(f"\n{summary}\n{overview}\n\nin {out}/: {folders} wavs, *_mel.png, {RESULTS_MD}, {RESULTS_JSON}, "
          f"{json_path.name}, {png_path.name}, {RUN}/\nlisten: {html_path}", file=sys.stdout)
    return rows
