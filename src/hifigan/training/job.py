"""A training job end to end: `train(TrainJob)` resolves the config (training.config_choice) and the data (the
job's, or the resumed checkpoint's), builds the Trainer, starts it from a checkpoint or weights when asked, trains
and reports. It is the library behind `hifigan train` (cli/train.py fills the TrainJob from the command line)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from hifigan.checkpoints.config_over import laid_over
from hifigan.checkpoints.run_files import BEST, find_resume_checkpoint, step_checkpoint
from hifigan.config import HifiganConfig, config_from_dict
from hifigan.data.corpus import Corpus
from hifigan.data.corpus_scan import scan_corpus
from hifigan.data.earlier_held_out import earlier_held_out
from hifigan.data.held_out_content import held_out_content
from hifigan.data.scan_cache import FileFacts, gather_facts
from hifigan.data.scan_row import ReadSettings
from hifigan.data.segments import what_was_scanned
from hifigan.data.skipped_list import SKIPPED_LIST
from hifigan.data.speakers import speakers_differ, spelled
from hifigan.errors import ConfigError, HifiganError
from hifigan.melconv.stats import inline_stats, model_stats
from hifigan.messages.option_names import as_given, as_stored, flag, setting, settings_word, wanted
from hifigan.messages.plural import audio_length
from hifigan.training.config_choice import (
    ConfigChoice,
    choose_config,
    naming_config_file,
    overrides_named,
    read_init,
    signal_line,
)
from hifigan.training.data_parallel import DistInfo, from_main, init_distributed, warnings_from_main
from hifigan.training.data_paths import as_typed, check_data_paths, given_paths, stored_spec
from hifigan.training.options import TrainJob, check_counts, settled, validation_off
from hifigan.training.preflight import CONFIG_CHECKS, check_place, check_settings
from hifigan.training.rank_listing import check_listing, listing_digests
from hifigan.training.refusals import Agreement, refusals_agreed
from hifigan.training.registry import check_part_names
from hifigan.training.resume_layout import clips_digest
from hifigan.training.resumed_config import check_config_again, overrides_said
from hifigan.training.run_folder import (
    SCAN_CACHE,
    ScanKept,
    check_run_folder,
    run_folder_of,
    taken_back_unless_saved,
)
from hifigan.training.run_lock import lock_run_folder, release
from hifigan.training.run_settings import carry, check_keep, given
from hifigan.training.start_lines import start_lines
from hifigan.training.trainer import Trainer

DATA_PATHS = ("corpus", "train_list", "valid_list", "wav_root")
READING = ("mel_convention", "resample", "mix_to_mono")  # TrainOptions' fields of how the data are read
DATA_KEYS = (*DATA_PATHS, "valid_count", "valid_fraction", "valid_cap", "valid_speakers", "input_mels", *READING)


@dataclass
class TrainResult:
    """How a job ended: why it stopped ("max_steps", "epochs", "time" or a signal name), where, and its newest
    checkpoint (None when none was written)."""

    reason: str
    step: int
    epoch: int
    checkpoint: Path | None
    files_read: int = 0  # audio files this process read in the up-front scan (the rest: the cache or rank 0's)
    best: Path | None = None  # the checkpoint of the lowest validation mel L1 (best.pt's), None before a validation


def data_spec(job: TrainJob, resume_obj: dict[str, Any] | None) -> dict[str, Any]:
    """The data options: the job's (paths as typed, see as_typed; how audio is read from its options), or, resuming
    a job that names no corpus or file list, the checkpoint's (stored_spec: the paths absolute)."""
    data = job.data or Corpus()
    stored = (resume_obj or {}).get("data") or {}
    spec = {**{"corpus" if k == "folder" else k: v for k, v in dataclasses.asdict(data).items()},
            "input_mels": job.input_mels, **{k: getattr(job.options, k) for k in READING}}
    if spec["valid_speakers"] is not None:  # as the option spells them, sorted: a checkpoint stores them so
        spec["valid_speakers"] = spelled(spec["valid_speakers"])
    spec = {k: as_typed(spec[k]) if k in (*DATA_PATHS, "input_mels") and spec[k] is not None else spec[k]
            for k in DATA_KEYS}
    if stored:
        return _resumed_data(spec, stored, job.cli)
    if data.folder is None and data.train_list is None:
        raise HifiganError(None, f"no training data: give {wanted('corpus', 'DIR', cli=job.cli)} or "
                                 f"{wanted('train_list', 'FILE', cli=job.cli)}")
    return spec


def _resumed_data(given: dict[str, Any], stored: dict[str, Any], cli: bool) -> dict[str, Any]:
    """A resumed run's data: the checkpoint's, with the paths given anew (a corpus moved); an option that would hold
    out other files or read them otherwise is refused, since the run's held-out files must stay out of training."""
    changed = [speakers_differ(given[k], stored[k], cli) if k == "valid_speakers" and stored.get(k) else
               f"{as_given(k, _as_caller(k, given[k], cli), cli)} (the run's: "
               f"{as_stored(_as_caller(k, stored.get(k), cli), cli)})" for k in DATA_KEYS
               if k not in (*DATA_PATHS, "input_mels") and given[k] not in (None, False) and given[k] != stored.get(k)]
    if given["input_mels"] is not None and "input_mels" in stored and stored["input_mels"] is None:
        # Not a moved folder: the run's inputs would become teacher-forced mels, its audio no longer normalised.
        changed.append(f"{setting('input_mels', given['input_mels'], cli)} (the run's: none: it trains on the mels "
                       "of its audio)")
    if changed:
        raise HifiganError(None, f"{flag('resume', cli)} keeps the run's data and held-out files, and these "
                                 f"{settings_word(cli)} differ: {'; '.join(changed)} (start a new run with "
                                 f"{flag('out', cli)} to change them)")
    return {k: given[k] if k in (*DATA_PATHS, "input_mels") and given[k] is not None else stored.get(k)
            for k in DATA_KEYS}


def _as_caller(key: str, value: Any, cli: bool) -> Any:
    """A data setting's value as its caller gives it: held-out speakers, stored spelled, as a list in Python."""
    return value.split(",") if key == "valid_speakers" and isinstance(value, str) and not cli else value


def resolve_config(base: HifiganConfig, overrides: dict[str, Any], cli: bool) -> HifiganConfig:
    """`base` with the job's overrides: each count at least its least value (options.LEAST, named as `cli` says);
    the config checks the rest (a refusal named as the overrides at fault: config_choice.overrides_named)."""
    check_counts(overrides, cli)
    try:
        return config_from_dict({**base.to_dict(), **overrides})
    except ConfigError as e:  # the base was checked: the overrides are at fault
        raise ConfigError(overrides_named(overrides, e.problem, cli), e.problem) from None


def inline_mel_stats(config: HifiganConfig) -> HifiganConfig:
    """A `mel_stats` file read once, now, and kept as its values: the checkpoints then vocode without the file."""
    if config.mel_stats is None or isinstance(config.mel_stats, dict):
        return config
    stats = model_stats(config.mel_stats, config.num_mels, config.mel_convention)
    return dataclasses.replace(config, mel_stats=inline_stats(stats))


def read_settings(config: HifiganConfig, data: dict[str, Any]) -> ReadSettings:
    """How the job reads audio (what a scan cache is valid for)."""
    return ReadSettings(config.sampling_rate, bool(data["resample"]), bool(data["mix_to_mono"]))


def shared_facts(files: list[Path], config: HifiganConfig, data: dict[str, Any], out: Path, dist: DistInfo,
                 progress: bool, root: Path | None = None, agreement: Agreement | None = None) -> FileFacts:
    """The scan's facts of `files`: rank 0 reads what its cache (OUT/scan-cache.npz) lacks, saves the cache at once
    (a run its data checks then refuse, or a Ctrl-C, keeps what was read for the corrected rerun) and hands the rows,
    with its listing's digests (names relative to `root`, the corpus root), to the other ranks, which read no file and
    stop when their listing differs (rank_listing.check_listing). `agreement`: the ranks meet there first, so that a
    rank that refused earlier in the scan stops the others before the broadcast."""
    facts = digests = None
    if dist.is_main:
        facts = gather_facts(files, read_settings(config, data), out / SCAN_CACHE, progress=progress, root=root)
        digests = listing_digests(files, root) if dist.active and dist.world_size > 1 else None
    if agreement is not None:
        agreement.now()
    shared = from_main(None if facts is None else (facts.rows, facts.problems, digests), dist)
    if facts is None:
        rows, problems, digests = shared
        check_listing(files, root, digests, rows["size"], dist.rank)
        facts = FileFacts(rows, problems)
    return facts


def held_out_of_run(resume_obj: dict[str, Any] | None, corpus: Corpus, seed: int, dist: DistInfo,
                    agreement: Agreement) -> list[str] | None:
    """A resumed run's held-out keys (earlier_held_out) as rank 0 finds them, on every rank: a held-out file renamed
    since is followed by its inode, which another machine's copy of the corpus does not share, so ranks deciding
    alone would disagree and the others train on it. None for a new run. The ranks meet first (`agreement`)."""
    if resume_obj is None or not dist.active or dist.world_size == 1:
        return earlier_held_out((resume_obj or {}).get("data") or {}, corpus, seed)
    held_out = earlier_held_out(resume_obj.get("data") or {}, corpus, seed) if dist.is_main else None
    agreement.now()
    return from_main(held_out, dist)


def _start(trainer: Trainer, job: TrainJob, resume_obj: dict[str, Any] | None, resume_path: Path | None,
           init_obj: dict[str, Any] | None, choice: ConfigChoice) -> list[str]:
    """Restore the resumed checkpoint or load the --init-from weights into `trainer` (read with the file or preset
    `choice` names); what to say of it."""
    lines = []
    if resume_obj is not None:
        gone = trainer.restore(resume_obj, resume_path)
        lines.append(f"resumed from {resume_path} at step {trainer.step} (epoch {trainer.epoch})")
        lines += [gone] if gone else []
    elif job.init_from is not None:
        lines += trainer.init_from(Path(job.init_from), job.init_discriminators, init_obj, choice.read_with)
        lines += signal_line(job, choice, trainer.config)
    return lines


def train(job: TrainJob) -> TrainResult:
    """Run a training job: resolve config and data, build the trainer, start it from `resume` or `init_from` when
    given, train until a limit or SIGINT/SIGTERM (it saves first), report. Under torchrun every process calls it."""
    dist = init_distributed(job.options.device, job.cli)
    lock = None
    try:
        with refusals_agreed(dist):  # under torchrun: said once, and every rank stops (training.refusals)
            job.check()
            resume_obj = resume_path = None
            if job.resume is not None:
                resume_path, resume_obj = find_resume_checkpoint(job.resume)
            out = job.options.out
            if out is None and resume_path is not None:  # the run folder that holds checkpoints/
                out = run_folder_of(resume_path)
            if out is None:
                raise HifiganError(None, f"{flag('out', job.cli)} is required (the run folder)")
            check_run_folder(Path(out), resumed_from=resume_path, cli=job.cli)
            new_folder = dist.is_main and resume_obj is None and not (Path(out).exists() or Path(out).is_symlink())
            keep_given = job.options.keep is not None
            job, carried = carry(job, resume_obj)
            early = settled(job.options)  # a typo'd device or precision: one line now, not after the scan's minutes
            device = check_place(early, dist, job.cli)
            # An --init-from checkpoint is read once: for its config (when no config is given) and its weights.
            init_obj = read_init(job) if job.init_from is not None and resume_obj is None else None
            choice = choose_config(job, resume_obj, resume_path, init_obj)
            base = choice.config
            if resume_obj is not None and job.seed is not None and job.seed != base.seed:
                raise HifiganError(None, f"{setting('seed', job.seed, job.cli)}: a resumed run keeps its seed "
                                         f"({base.seed}), which chose its held-out files")
            config = resolve_config(base, job.overrides(), job.cli)
            replaced = None if resume_obj is None else overrides_said(base, job.overrides(), job.cli)
            with naming_config_file(choice):
                check_part_names(config)  # a typo in a part's name or argument: one line now, not after the scan
            config = inline_mel_stats(config)
            if resume_obj is not None and job.config is not None:  # the run's own config again, or refused
                again = inline_mel_stats(resolve_config(laid_over(base, job.config), job.overrides(), job.cli))
                check_config_again(config, again, job.config, resume_path, job.cli)
            file_alone = None if not job.overrides() else [  # names --segment-size, not the file, where it is at fault
                lambda check=check: check(inline_mel_stats(base)) for check in CONFIG_CHECKS]
            with naming_config_file(choice, file_alone, job):  # every setting: one line now, not after the scan
                check_settings(config, early, device, dist, job.cli)
            data = data_spec(job, resume_obj)
            check_data_paths(data, given_paths(job), resuming=resume_obj is not None, cli=job.cli)
            run_options, off = validation_off(job.options, data["valid_count"], resuming=resume_obj is not None,
                                              cli=job.cli)
            corpus = Corpus(*(None if data[k] is None else Path(data[k]) for k in DATA_PATHS),
                            data["valid_count"], data["valid_fraction"], data["valid_cap"],
                            None if data["valid_speakers"] is None else data["valid_speakers"].split(","), cli=job.cli)
        kept = ScanKept(Path(out))
        # A run drew an utterance's takes together unless its checkpoint predates that rule (it drew each file alone).
        by_utterance = resume_obj is None or bool((resume_obj.get("data") or {}).get("held_out_utterances"))
        with refusals_agreed(dist) as agreement, kept.said():  # the scan's refusals, check_listing's on a rank alone
            lock = lock_run_folder(Path(out), job.cli) if dist.is_main else None  # one process per run folder
            with warnings_from_main(dist):
                scanned = scan_corpus(
                    corpus, config,
                    lambda files: kept.after_scan(shared_facts(files, config, data, Path(out), dist,
                                                               job.options.shows_bars, corpus.root(), agreement)),
                    resample=data["resample"], mix_to_mono=data["mix_to_mono"],
                    input_mels=None if data["input_mels"] is None else Path(data["input_mels"]),
                    mel_convention=data["mel_convention"],
                    held_out=held_out_of_run(resume_obj, corpus, config.seed, dist, agreement),
                    skipped_list=Path(out) / SKIPPED_LIST if dist.is_main else None, scan_kept=True,
                    utterances=by_utterance)
            held, facts, train_scan, valid_scan = scanned.held, scanned.facts, scanned.train, scanned.valid
            options = dataclasses.replace(run_options, out=Path(out), **{k: data[k] for k in READING})
            with naming_config_file(choice):  # a part refused a value
                trainer = Trainer(config, train_scan.clips, valid_scan.clips, options, dist, job.cli)
            # rank 0 alone saves checkpoints: only it reads the files' identity
            held_keys = [scanned.keys[f] for f in held.valid]
            trainer.data_spec = {**stored_spec(data), "held_out": held_keys, "held_out_utterances": by_utterance,
                                 "held_out_content": held_out_content(held.valid, held_keys) if dist.is_main else {},
                                 "train_clips": len(train_scan.clips),
                                 "train_digest": clips_digest([scanned.keys[c.path] for c in train_scan.clips])}
            with warnings_from_main(dist):  # before any file: a bad one is one line
                started = _start(trainer, job, resume_obj, resume_path, init_obj, choice)
            pruning = None if resume_obj is None else check_keep(job, keep_given, trainer.ckpt_dir, trainer.step,
                                                                    trainer.best.step)
        say = trainer.say  # said once every check has passed: bad input stays one line
        files = len(scanned.files)
        say(f"validation: {held.reason}")
        if off:
            say(off, warning=True)
        held_out = sum(c.num_samples for c in valid_scan.clips) / config.sampling_rate  # lengths at the model rate
        usable = sum(c.num_samples for c in train_scan.clips) / config.sampling_rate + held_out
        say(f"scan: {what_was_scanned(scanned.files)}, {facts.read} read, {files - facts.read} unchanged "
            f"({Path(out) / SCAN_CACHE}); usable audio {audio_length(usable)}, {audio_length(held_out)} of it "
            f"held out{scanned.converted(config.sampling_rate)}")
        trainer.run_settings = given(job)
        say(f"{train_scan.summary('training set')}; {valid_scan.summary('validation set')}")
        for line in (*started, *carried, *([replaced] if replaced else []), *([pruning] if pruning else []),
                     *start_lines(trainer, job, choice)):
            say(line)
        with taken_back_unless_saved(Path(out), new_folder, job.cli):  # after the close: the logs are whole
            try:
                reason = trainer.fit(job.max_steps, job.epochs, job.max_minutes, on_step=job.on_step)
            finally:
                trainer.close()
        written, best = trainer.last_checkpoint, trainer.best
        best_path = None if best.step is None else step_checkpoint(trainer.ckpt_dir, best.step)
        # The checkpoint written is the command's success line (`wrote PATH`, cli/train.py): said here only if none.
        say(f"stopped ({reason}) at step {trainer.step}, epoch {trainer.epoch}"
            + ("" if written else "; checkpoint: none written (nothing trained)")
            + ("" if best_path is None else f"; best: {best_path} (val/mel_l1 {best.value:.4f}, {BEST})"))
        return TrainResult(reason, trainer.step, trainer.epoch, written, facts.read, best_path)
    finally:
        release(lock)
        if dist.active and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
