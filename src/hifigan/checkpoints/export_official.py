"""One of our checkpoints as the official jik876/hifi-gan files: g_<steps> always (of the HiFi-GAN generator: the
format has no place for another), do_<steps> when the run trained exactly the official MPD and MSD (nor for other
discriminators), and the config.json beside them that the official inference.py reads."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from hifigan.arrays.upsampling import official_samples
from hifigan.checkpoints.contents import OFFICIAL_CONFIG_NAME, CheckpointContents
from hifigan.checkpoints.format import write_checkpoints
from hifigan.checkpoints.official import (
    OFFICIAL_DISCRIMINATORS,
    is_official_set,
    official_discriminators_dict,
    official_generator_dict,
)
from hifigan.checkpoints.official_blocks import official_dilation_problem
from hifigan.checkpoints.run_files import stored_discriminator_args, stored_discriminators
from hifigan.config import HIFIGAN_GENERATOR, HifiganConfig
from hifigan.errors import CheckpointError
from hifigan.files.output_folders import prepare_output_dir
from hifigan.melconv.model import ModelMel
from hifigan.training.registry import non_official_arguments

OFFICIAL_NUM_MELS = 80  # the official Generator's conv_pre is Conv1d(80, ...), whatever its config says
_SHOWN_FRAMES = 10  # the length the padding note gives figures for


def official_code_problems(config: HifiganConfig, name: str) -> list[str]:
    """One line per thing the official jik876/hifi-gan code does otherwise with a g_* file of this model: mel bins
    its conv_pre cannot load, residual blocks of another number of dilations than its ResBlock builds, upsampling
    padding that gives another length (odd kernel - rate), an input mel its inference.py and training do not compute
    (they read only the official keys of the config.json beside it, not the mel_* keys). The file is still written:
    forks that fix these are common."""
    problems = [line for line in [official_dilation_problem(config, name)] if line]
    if config.num_mels != OFFICIAL_NUM_MELS:
        problems.append(f"{name}: the official code cannot load it: its conv_pre takes {OFFICIAL_NUM_MELS} mel bins, "
                        f"this model {config.num_mels} (a fork that reads num_mels from the config can)")
    frames, rates, kernels = _SHOWN_FRAMES, config.upsample_rates, config.upsample_kernel_sizes
    official, ours = official_samples(frames, rates, kernels), frames * config.hop_size
    if official != ours:
        odd = [f"{k} - {u}" for u, k in zip(rates, kernels) if (k - u) % 2]
        problems.append(f"{name}: the official code computes it otherwise: its upsampling padding (kernel - rate) // 2 "
                        f"gives {official} samples for {frames} frames where this model gives {ours} (exact padding "
                        f"at the odd kernel - rate {', '.join(odd)}: docs/sample-rates.md)")
    if (mel := ModelMel.of(config)).label != "official":
        problems.append(f"{name}: the official code computes its input mel otherwise: its inference.py and training "
                        f"compute the official log-mel, not {mel.named()} (hifigan vocode reads the mel"
                        f"{', its mel_stats included,' if config.mel_stats is not None else ''} from the "
                        f"{OFFICIAL_CONFIG_NAME} beside it)")
    return problems


def _why_no_do_file(obj: dict, trained: list[str]) -> str | None:
    """Why a checkpoint holding discriminators (`trained`: their names) gets no do_* file; None: it gets one."""
    if not is_official_set(trained):
        return (f"no do_* file: the official format holds mpd and msd only, the checkpoint was trained with "
                f"{', '.join(trained)}")
    if changed := non_official_arguments(stored_discriminator_args(obj)):
        return (f"no do_* file: the official format holds the official mpd and msd, the checkpoint sets "
                f"{', '.join(changed)}")
    if missing := [name for name in OFFICIAL_DISCRIMINATORS if name not in obj]:
        return f"no do_* file: the checkpoint holds no {' or '.join(missing)} (a do_* file holds mpd and msd)"
    return None


def export_official(checkpoint: str | os.PathLike, out: str | os.PathLike,
                    check: Callable[[list[Path]], None] | None = None) -> list[Path]:
    """Our checkpoint -> official g_<steps> (and do_<steps> when it holds MPD and MSD in their official layout, and
    no other discriminator: the official format has no place for others, nor its optimizer for their moments), and
    the checkpoint's config as config.json beside them, where the official inference.py looks for it.
    `check` sees the files to write once their names are known, before anything is created (the CLI refuses one
    that is the checkpoint itself)."""
    out = Path(out)
    source = CheckpointContents.read(checkpoint)
    obj = source.contents
    if source.official or "generator" not in obj:
        raise CheckpointError(checkpoint, "not a checkpoint of this package (nothing to export)")
    if source.generator_name != HIFIGAN_GENERATOR:
        raise CheckpointError(checkpoint, f"holds generator {source.generator_name!r}; the official format holds "
                                          "the HiFi-GAN generator only")
    step = int(obj.get("step", 0))
    files: dict[str, dict | str] = {f"g_{step:08d}": official_generator_dict(source.generator_state())}
    trained = stored_discriminators(obj)
    holds_any = any(name in obj for name in trained)  # a generator alone: no do_* file, and nothing to say of it
    note = _why_no_do_file(obj, trained) if holds_any else None
    if holds_any and note is None:
        states = source.discriminator_states(OFFICIAL_DISCRIMINATORS)
        files[f"do_{step:08d}"] = official_discriminators_dict(
            # The official train.py stores the 0-based index of its last update and resumes at steps + 1.
            states["mpd"], states["msd"], obj.get("optim_g"), obj.get("optim_d"), step - 1, int(obj.get("epoch", 0)))
    config = source.config()
    notes = ([] if note is None else [note]) + official_code_problems(config, f"g_{step:08d}")
    return _write_official(out, files, config, check, notes)


def export_pretrained(name: str, out: str | os.PathLike,
                      check: Callable[[list[Path]], None] | None = None) -> list[Path]:
    """A registered pretrained generator as the official release has it: its g_* file (the verified file's
    contents, as official) and its config as config.json beside it; no do_* file, as the wheel holds none."""
    from hifigan.pretrained import read_pretrained

    model, _, obj = read_pretrained(name)
    return _write_official(Path(out), {model.official_name: obj}, model.load_config(), check)


def _write_official(out: Path, files: dict[str, dict | str], config: HifiganConfig,
                    check: Callable[[list[Path]], None] | None, notes: Sequence[str] = ()) -> list[Path]:
    """`files` and the config as config.json beside them (the official inference.py reads its config from the g_*
    file's folder, as the official train.py leaves it there), written as one unit into `out`: `check` sees their
    paths before anything is created, then the folder is made and the `notes` warned."""
    files = {**files, OFFICIAL_CONFIG_NAME: json.dumps(config.to_dict(), indent=4) + "\n"}
    if check is not None:
        check([out / name for name in files])  # before the notes: a refused export says one line
    prepare_output_dir(out)  # once everything to write has been read and checked; before the notes, as check
    for line in notes:
        warnings.warn(line, stacklevel=3)  # the exporting function's caller, as before
    write_checkpoints({out / name: payload for name, payload in files.items()})  # all or none
    return [out / name for name in files]
