"""Starting a run from existing weights (`--init-from`, `--init-discriminators`): an official g_*/do_* pair or one
of our checkpoints; weights and, when present, both optimizers' Adam moments. The schedule starts afresh."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hifigan.checkpoints.contents import CheckpointContents, official_discriminator_file
from hifigan.checkpoints.format import load_state_strict
from hifigan.checkpoints.official import is_official_set
from hifigan.training.state import TrainingState, check_moment_shapes, load_optimizer_state


def init_from(state: TrainingState, path: Path, discriminators: Path | None = None,
              obj: dict[str, Any] | None = None) -> list[str]:
    """Load the weights (and optimizer moments, when present) at `path` into `state` (`obj`: the file's contents,
    when the caller has read it already). The step count and learning-rate schedule start afresh.

    Returns what was loaded, for the log.
    """
    checkpoint = CheckpointContents.read(path) if obj is None else CheckpointContents(obj, path)
    load_state_strict(state.generator, checkpoint.generator_state(), path, "generator")
    loaded = [f"generator from {path}" + (" (official)" if checkpoint.official else "")]
    source = discriminator_source(checkpoint, list(state.discriminators), discriminators)
    if source is not None:
        loaded += load_discriminators(state, source)
    state.restart_schedules()
    return loaded


def discriminator_source(checkpoint: CheckpointContents, names: list[str], given: Path | None
                         ) -> CheckpointContents | None:
    """Where the discriminators come from: our checkpoint itself when it holds every one of `names`; else the
    --init-discriminators file; else, for an official g_* file, the do_* file beside it. None: they start fresh."""
    if not checkpoint.official and all(name in checkpoint.contents for name in names):
        return checkpoint
    if given is None and checkpoint.official and checkpoint.source is not None:
        given = official_discriminator_file(Path(checkpoint.source))
    return None if given is None else CheckpointContents.read(given)


def load_discriminators(state: TrainingState, source: CheckpointContents) -> list[str]:
    """Each discriminator's weights from an official do_* file or our checkpoint (by name), and both optimizers'
    moments when it holds them. An official file holds MPD and MSD only: with other discriminators configured,
    those two are loaded and the optimizers (whose layout then differs) start fresh. Returns what was loaded."""
    names = source.discriminator_names(list(state.discriminators))
    for name, weights in source.discriminator_states(names).items():
        load_state_strict(state.discriminators[name], weights, source.source, name)
    loaded = [f"discriminators ({', '.join(names)}) from {source.source}"]
    if source.official and not is_official_set(list(state.discriminators)):
        return loaded
    for name, optim in (("optim_g", state.optim_g), ("optim_d", state.optim_d)):
        moments = source.optimizer_state(name)
        if moments is not None:
            load_optimizer_state(optim, moments, source.source, name)
            check_moment_shapes(optim, source.source, name)
            loaded.append(f"{name} moments")
    return loaded
