"""Starting a run from existing weights (`--init-from`, `--init-discriminators`): an official g_*/do_* pair or one
of our checkpoints; weights and, when present, both optimizers' Adam moments. The schedule starts afresh."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hifigan.checkpoint import is_own_checkpoint, load_state_strict, read_checkpoint
from hifigan.compat import is_official_discriminators, is_official_generator, official_to_ours
from hifigan.errors import CheckpointError
from hifigan.training.parts import OFFICIAL, is_official_set
from hifigan.training.state import TrainingState, check_moment_shapes, load_optimizer_state


def init_from(state: TrainingState, path: Path, discriminators: Path | None = None,
              obj: dict[str, Any] | None = None) -> list[str]:
    """Load the weights (and optimizer moments, when present) at `path` into `state` (`obj`: the file's contents,
    when the caller has read it already). The step count and learning-rate schedule start afresh.

    Returns what was loaded, for the log.
    """
    obj = read_checkpoint(path) if obj is None else obj
    loaded = []
    if is_own_checkpoint(obj):
        if "generator" not in obj:
            raise CheckpointError(path, "checkpoint holds no generator")
        load_state_strict(state.generator, obj["generator"], path, "generator")
        loaded.append(f"generator from {path}")
        do, do_source = (obj, path) if all(name in obj for name in state.discriminators) else (None, None)
    elif is_official_generator(obj):
        load_state_strict(state.generator, official_to_ours(obj["generator"]), path, "generator")
        loaded.append(f"generator from {path} (official)")
        do, do_source = None, discriminators
        if do_source is None and path.name.startswith("g_"):
            sibling = path.with_name("do_" + path.name[2:])
            do_source = sibling if sibling.is_file() else None
    else:
        raise CheckpointError(path, "not a HiFi-GAN checkpoint (neither ours nor an official g_* file)")
    if discriminators is not None and do is None:
        do_source = discriminators
    if do is None and do_source is not None:
        do = read_checkpoint(do_source)
        if not (is_official_discriminators(do) or is_own_checkpoint(do)):
            raise CheckpointError(do_source, "not a discriminator checkpoint (needs 'mpd' and 'msd')")
    if do is not None:
        loaded += load_discriminators(state, do, do_source)
    state.restart_schedules()
    return loaded


def load_discriminators(state: TrainingState, do: dict[str, Any], source: Path) -> list[str]:
    """Each discriminator's weights from an official do_* file or our checkpoint (by name), and both optimizers'
    moments when it holds them. An official file holds MPD and MSD only: with other discriminators configured,
    those two are loaded and the optimizers (whose layout then differs) start fresh. Returns what was loaded."""
    own = is_own_checkpoint(do)
    names = list(state.discriminators) if own else [n for n in state.discriminators if n in OFFICIAL]
    for name in names:
        if name not in do:
            raise CheckpointError(source, f"holds no {name} weights")
        load_state_strict(state.discriminators[name], do[name] if own else official_to_ours(do[name]), source, name)
    loaded = [f"discriminators ({', '.join(names)}) from {source}"]
    if not (own or is_official_set(list(state.discriminators))):
        return loaded
    for name, optim in (("optim_g", state.optim_g), ("optim_d", state.optim_d)):
        if isinstance(do.get(name), dict) and do[name].get("state"):
            load_optimizer_state(optim, do[name], source, name)
            check_moment_shapes(optim, source, name)
            loaded.append(f"{name} moments")
    return loaded
