"""`hifigan train`: the command's options, turned into a TrainJob for its library, hifigan.training.job.train."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from hifigan.cli.common import (
    Amount,
    Count,
    add_audio_options,
    add_command,
    add_device,
    add_no_progress,
    add_out,
    add_threads,
    say_wrote,
    shows_progress,
)
from hifigan.cli.lists import add_list
from hifigan.cli.model_source import CKPT, CONFIG_FORMS
from hifigan.cli.training_options import add_corpus, add_seed, add_segment_size
from hifigan.config import DEFAULT_LOSS_WEIGHTS as WEIGHTS
from hifigan.data.speakers import speaker_names
from hifigan.errors import READER_GONE
from hifigan.training.options import LEAST

if TYPE_CHECKING:
    from hifigan.training.options import TrainJob


# A run stopped because its console went away ends with the status of a tool that signal ends (128 + the signal),
# its step saved first: SIGPIPE, the reader of its output gone (`|& head`); SIGHUP, its terminal closed.
CONSOLE_GONE = {"SIGPIPE": READER_GONE, "SIGHUP": 129}


def add_train(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "train", run_train,
        help="train or fine-tune a HiFi-GAN (single process or torchrun)",
        description="Train HiFi-GAN as the official code does: a discriminator step (MPD + MSD) then a generator "
        f"step (adversarial + {WEIGHTS['fm']:g} x feature matching + {WEIGHTS['mel']:g} x mel L1), AdamW, lr decay "
        "per epoch. Data: a folder of audio or file lists (LJSpeech-style, or a Kaldi wav.scp); --input-mels "
        "fine-tunes on teacher-forced mels. "
        "Writes OUT/checkpoints/ (ckpt_<step>.pt, latest.pt), OUT/logs/ (TensorBoard) and OUT/log.jsonl. "
        "SIGINT/SIGTERM save and stop; --resume OUT continues exactly. Under torchrun each process trains one "
        "shard (DDP).",
        epilog="examples:\n"
        "  hifigan train --corpus data/ljspeech-mini --config v3 --out runs/v3 --max-minutes 30\n"
        "  hifigan train --train-list training.txt --valid-list validation.txt --wav-root LJSpeech-1.1/wavs "
        "--out runs/v1\n"
        "  hifigan train --resume runs/v1 --max-steps 200000\n"
        "  hifigan train --init-from cp_hifigan/g_02500000 --config v1 --input-mels gta/ --corpus wavs/ --out ft\n"
        "  hifigan train --init-from universal-v1 --config finetune.yaml --corpus my_speaker/ --out runs/ft "
        "--device cuda\n    # finetune.yaml holds 'learning_rate: 0.00001': at the recipe's 2e-4, the fresh "
        "optimizer's first steps move every weight away from the pretrained model\n"
        "  torchrun --nproc_per_node 4 -m hifigan train --corpus wavs/ --out runs/v1 --device cuda",
    )
    _add_data(p.add_argument_group("data"))
    _add_model(p.add_argument_group("model and schedule"))
    _add_run(p.add_argument_group("run"))


def _add_data(data: argparse._ArgumentGroup) -> None:
    add_corpus(data, required=False)
    data.add_argument("--train-list", type=Path, metavar="FILE", help="file list: LJSpeech-style 'id|text' lines "
                      "(official training.txt), or a Kaldi/ESPnet wav.scp ('utt-id path' lines; a name ending .scp)")
    data.add_argument("--valid-list", type=Path, metavar="FILE",
                      help="validation file list, of either kind (official validation.txt)")
    data.add_argument("--wav-root", type=Path, metavar="DIR", help="folder holding <id>.wav for the file lists (a "
                      "wav.scp's relative paths start from it)")
    data.add_argument("--valid-count", type=Count(0), metavar="N",
                      help="hold out this many files for validation (seeded; 0, with --validation-interval 0: "
                      "nothing held out, every file trains)")
    data.add_argument("--valid-fraction", type=Amount(0, 1, low_open=True, high_open=True), metavar="FRACTION",
                      help="hold out the files whose seeded path hash falls below this fraction (default 0.05)")
    data.add_argument("--valid-cap", type=Count(0), metavar="N",
                      help="hold out at most this many files by fraction (default 150, the official list's size; "
                      "0: no cap)")
    add_list(data, "--valid-speakers", "hold out every clip of these speakers, comma-separated (p225,p226; a speaker "
             "is the folder of its clips: VCTK's wav48/p225/, LibriTTS's train-clean-100/19/, or a wav.scp's Kaldi "
             "utt2spk's or spk2utt's; none of theirs trains)", kind=_speakers)
    data.add_argument("--input-mels", type=Path, metavar="DIR",
                      help="fine-tune on teacher-forced mels: <stem>.npy per audio file in this folder")
    data.add_argument("--mel-convention", metavar="NAME",
                      help="the convention of the --input-mels mels, converted to the model's where the map is "
                      "exact: log10, db, transposed+log10, ... (as hifigan vocode; default: the model's own)")
    add_audio_options(data, "files")
    data.add_argument("--num-workers", type=Count(LEAST["num_workers"]), metavar="N",
                      help="DataLoader worker processes (default: the config's)")


def _speakers(text: str) -> list[str]:
    """--valid-speakers' names (speaker_names); a bad list is a usage error in its words."""
    try:
        return speaker_names(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _add_model(model: argparse._ArgumentGroup) -> None:
    model.add_argument("--config", default=None,
                       help=f"{CONFIG_FORMS} (default v1, or the checkpoint's)")
    model.add_argument("--batch-size", type=Count(LEAST["batch_size"]), metavar="N",
                       help="clips per step and process (default: the config's)")
    add_segment_size(model)
    model.add_argument("--disc-start-step", type=Count(LEAST["disc_start_step"]), metavar="STEP",
                       help="train only the generator on the mel loss before this step (default: the config's, 0)")
    add_seed(model)


def _add_run(run: argparse._ArgumentGroup) -> None:
    from hifigan.messages.option_names import flag
    from hifigan.training.options import PRECISIONS, RUN_DEFAULTS, default

    add_out(run, "run folder: checkpoints/, logs/ (TensorBoard), log.jsonl (with --resume: that run's)", required=False,
            metavar="DIR")
    run.add_argument("--resume", type=Path, metavar="DIR", help="continue a run exactly from its newest checkpoint")
    run.add_argument("--init-from", metavar=CKPT,
                     help="start from weights: official g_* (do_* beside it is used too), our checkpoint, or a "
                     "pretrained model's name (lj-v1, universal-v1: discriminators start fresh; ./NAME for a file)")
    run.add_argument("--init-discriminators", type=Path, metavar="DO_CKPT", help="official do_* file for --init-from")
    run.add_argument("--max-steps", type=Count(LEAST["max_steps"]), metavar="N",
                     help="stop at this total step count (with --resume: default the run's)")
    run.add_argument("--epochs", type=Count(LEAST["epochs"]), metavar="N",
                     help="stop after this many epochs in total (with --resume: default the "
                     "run's)")
    run.add_argument("--max-minutes", type=Amount(0, low_open=True, inf=True), metavar="MINUTES",
                     help="stop after this many minutes of this job, a stop rule beside --max-steps and --epochs "
                     "(whichever comes first; --resume does not keep it)")
    add_device(run)
    add_threads(run)
    run.add_argument("--precision", default=default("precision"), choices=PRECISIONS,
                     help=f"bf16 autocast, losses stay fp32 (default {default('precision')}; CUDA, or a CPU with "
                     "AVX512-BF16/AMX)")
    carried = (("checkpoint_interval", "steps between checkpoints (0: only at the end)"),
               ("validation_interval", "steps between validations (0: never)"),
               ("log_interval", "steps between logged scalars"),
               ("keep", "checkpoints kept (newest; latest.pt is the newest; best.pt, the lowest val mel L1, besides)"),
               ("max_nonfinite", "stop with an error after this many non-finite steps in a row (each is skipped)"))
    for key, help_text in carried:  # None: the resumed run's value, else the default (training.run_settings)
        run.add_argument(flag(key, cli=True), type=Count(LEAST[key]), metavar="N",
                         help=f"{help_text} (default {RUN_DEFAULTS[key]}; with --resume: the run's)")
    run.add_argument("--deterministic", action="store_true",
                     help="torch.use_deterministic_algorithms (bit-exact resume; slower)")
    run.add_argument("--cuda-graph", action=argparse.BooleanOptionalAction, default=default("cuda_graph"),
                     help="replay the step from one captured CUDA graph (default: on with --device cuda in one "
                     "process, eager if the capture fails; --no-cuda-graph: always eager)")
    add_no_progress(run)


def train_job(args: argparse.Namespace) -> TrainJob:
    """The TrainJob the command line describes."""
    from hifigan.data.corpus import Corpus
    from hifigan.training.options import TrainJob, TrainOptions

    options = TrainOptions(
        out=args.out, device=args.device, precision=args.precision, checkpoint_interval=args.checkpoint_interval,
        validation_interval=args.validation_interval, log_interval=args.log_interval, keep=args.keep,
        max_nonfinite=args.max_nonfinite, deterministic=args.deterministic, cuda_graph=args.cuda_graph,
        progress=shows_progress(args), quiet=args.quiet, resample=args.resample,
        mix_to_mono=args.mix_to_mono, mel_convention=args.mel_convention,
    )
    data = Corpus(folder=args.corpus, train_list=args.train_list, valid_list=args.valid_list, wav_root=args.wav_root,
                  valid_count=args.valid_count, valid_fraction=args.valid_fraction, valid_cap=args.valid_cap,
                  valid_speakers=args.valid_speakers, cli=True)
    return TrainJob(options=options, data=data, input_mels=args.input_mels, config=args.config,
                    batch_size=args.batch_size, segment_size=args.segment_size, disc_start_step=args.disc_start_step,
                    num_workers=args.num_workers, seed=args.seed, resume=args.resume, init_from=args.init_from,
                    init_discriminators=args.init_discriminators, max_steps=args.max_steps, epochs=args.epochs,
                    max_minutes=args.max_minutes, cli=True)


def run_train(args: argparse.Namespace) -> int:
    import os

    from hifigan.training.job import train

    if args.out is None and args.resume is None:  # a usage error, as a missing -o/--out is in every command
        args.subparser.error("the following arguments are required: -o/--out (or --resume DIR: that run's folder)")
    result = train(train_job(args))
    if result.checkpoint is not None and os.environ.get("RANK", "0") == "0":  # one line under torchrun too
        say_wrote(args, result.checkpoint)
    return CONSOLE_GONE.get(result.reason, 0)  # saved, then ended as the signal ends a tool: pipefail sees it
