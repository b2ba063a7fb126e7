"""`hifigan train`: resolve the config and the data (from the command line, or from the checkpoint being resumed),
build the Trainer, start it from a checkpoint or weights when asked, train, report."""

from __future__ import annotations

import argparse
import dataclasses
import warnings
from pathlib import Path
from typing import Any

import torch

from hifigan.checkpoints.contents import CheckpointContents
from hifigan.checkpoints.format import config_of, read_checkpoint
from hifigan.checkpoints.run_files import checkpoint_files, find_resume_checkpoint
from hifigan.config import HifiganConfig
from hifigan.errors import HifiganError
from hifigan.training.data_parallel import init_distributed
from hifigan.training.options import TrainOptions
from hifigan.training.trainer import Trainer

DATA_PATHS = ("corpus", "train_list", "valid_list", "wav_root")
DATA_KEYS = (*DATA_PATHS, "valid_count", "valid_fraction", "input_mels", "resample", "mix_to_mono")


def _data_spec(args: argparse.Namespace, resume_obj: dict[str, Any] | None) -> dict[str, Any]:
    """The data options: from the command line, or (resuming without --corpus/--train-list) from the checkpoint."""
    stored = (resume_obj or {}).get("data") or {}
    if args.corpus is None and args.train_list is None and stored:
        return {k: stored.get(k) for k in DATA_KEYS}
    if args.corpus is None and args.train_list is None:
        raise HifiganError(None, "no training data: give --corpus DIR or --train-list FILE")
    spec = {k: getattr(args, k) for k in DATA_KEYS}
    return {k: str(Path(v).resolve()) if k in (*DATA_PATHS, "input_mels") and v is not None else v
            for k, v in spec.items()}


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    pairs = (("batch_size", args.batch_size), ("segment_size", args.segment_size),
             ("disc_start_step", args.disc_start_step), ("num_workers", args.num_workers), ("seed", args.seed))
    return {k: v for k, v in pairs if v is not None}


def resolve_config(base: HifiganConfig, overrides: dict[str, Any]) -> HifiganConfig:
    from hifigan.config import config_from_dict

    for key, value in overrides.items():
        if key != "disc_start_step" and isinstance(value, int) and value < (0 if key == "num_workers" else 1):
            raise HifiganError(None, f"--{key.replace('_', '-')} must be positive, got {value}")
    return config_from_dict({**base.to_dict(), **overrides}, "command line")


def inline_mel_stats(config: HifiganConfig) -> HifiganConfig:
    """A `mel_stats` file read once, now, and kept as its values: the checkpoints then vocode without the file."""
    if config.mel_stats is None or isinstance(config.mel_stats, dict):
        return config
    from hifigan.melconv.stats import inline_stats, model_stats

    stats = model_stats(config.mel_stats, config.num_mels, config.mel_convention)
    return dataclasses.replace(config, mel_stats=inline_stats(stats))


def _base_config(args: argparse.Namespace, resume_obj: dict[str, Any] | None, resume_path: Path | None,
                 init_obj: dict[str, Any] | None) -> HifiganConfig:
    """The resumed checkpoint's config; else --config; else the config of an --init-from checkpoint of ours; else v1."""
    from hifigan.config import load_config

    if resume_obj is not None:
        return config_of(resume_obj, resume_path)
    if init_obj is not None and _pretrained_init(args) is not None:
        from hifigan.pretrained import get_model, model_config

        return model_config(get_model(_pretrained_init(args)), args.config)
    if args.config is None and init_obj is not None:
        return CheckpointContents(init_obj, args.init_from).config()
    return load_config(args.config or "v1")


def _pretrained_init(args: argparse.Namespace) -> str | None:
    """The registered pretrained model --init-from names, if it names one (a file of that name: ./NAME)."""
    from hifigan.pretrained import MODELS

    return args.init_from if args.init_from in MODELS else None


def _read_init(args: argparse.Namespace) -> dict[str, Any]:
    """The --init-from weights: a pretrained model's verified file, or the checkpoint file's contents."""
    name = _pretrained_init(args)
    if name is not None:
        from hifigan.pretrained import read_pretrained

        return read_pretrained(name)[2]
    return read_checkpoint(args.init_from)


def run_command(args: argparse.Namespace) -> int:
    """`hifigan train`: resolve config and data, build the trainer, train, report."""
    from hifigan.data.clip_scan import scan_clips
    from hifigan.data.corpus import Corpus

    dist = init_distributed(args.device)
    try:
        resume_obj = resume_path = None
        if args.resume is not None:
            resume_path, resume_obj = find_resume_checkpoint(args.resume)
        out = args.out
        if out is None and resume_path is not None:  # the run folder that holds checkpoints/
            out = resume_path.parent.parent if resume_path.parent.name == "checkpoints" else resume_path.parent
        if out is None:
            raise HifiganError(None, "--out is required (the run folder)")
        # An --init-from checkpoint is read once: for its config (when --config is absent) and its weights.
        init_obj = _read_init(args) if args.init_from is not None and resume_obj is None else None
        config = resolve_config(_base_config(args, resume_obj, resume_path, init_obj), _overrides(args))
        config = inline_mel_stats(config)
        data = _data_spec(args, resume_obj)
        corpus = Corpus(*(None if data[k] is None else Path(data[k]) for k in DATA_PATHS),
                        data["valid_count"], data["valid_fraction"])
        train_files, valid_files = corpus.resolve(config.seed)
        input_mels = None if data["input_mels"] is None else Path(data["input_mels"])
        with warnings.catch_warnings():
            if not dist.is_main:
                warnings.simplefilter("ignore")
            kw = dict(resample=data["resample"], mix_to_mono=data["mix_to_mono"], input_mels=input_mels)
            train_scan = scan_clips(train_files, config, **kw, what="training set")
            valid_scan = scan_clips(valid_files, config, **kw, what="validation set")
        options = TrainOptions(
            out=out, device=args.device, precision=args.precision, checkpoint_interval=args.checkpoint_interval,
            validation_interval=args.validation_interval, log_interval=args.log_interval, keep=args.keep,
            max_nonfinite=args.max_nonfinite, deterministic=args.deterministic, progress=not args.no_progress,
            resample=data["resample"], mix_to_mono=data["mix_to_mono"],
        )
        trainer = Trainer(config, train_scan.clips, valid_scan.clips, options, dist)
        trainer.data_spec = data
        say = trainer.say
        say(f"{train_scan.summary('training set')}; {valid_scan.summary('validation set')}")
        if resume_obj is not None:
            if args.config is not None:
                say("--config ignored: a resumed run keeps its checkpoint's config")
            trainer.restore(resume_obj, resume_path)
            say(f"resumed from {resume_path} at step {trainer.step} (epoch {trainer.epoch}) on {trainer.device}")
        elif args.init_from is not None:
            for line in trainer.init_from(Path(args.init_from), args.init_discriminators, init_obj):
                say(f"loaded {line}")
            if _pretrained_init(args) is not None and args.init_discriminators is None:
                say(f"the discriminators start fresh (random): {args.init_from} ships no official do_* file")
        try:
            reason = trainer.fit(max_steps=args.max_steps, epochs=args.epochs, max_minutes=args.max_minutes)
        finally:
            trainer.close()
        where = checkpoint_files(trainer.ckpt_dir)
        say(f"stopped ({reason}) at step {trainer.step}, epoch {trainer.epoch}; "
            f"checkpoint: {where[-1] if where else 'none'}")
        return 0
    finally:
        if dist.active and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
