"""A resumed run keeps its checkpoint's config: a --config given again must say the same, else one line naming
every key that differs (a changed learning rate or architecture would continue another run than the one stored).
The command line's config overrides (--batch-size, --segment-size, ...) apply to a resumed run too, and are said."""

from __future__ import annotations

import os
from dataclasses import fields

from hifigan.config import HifiganConfig
from hifigan.errors import ConfigError
from hifigan.messages.option_names import flag, setting


def config_differences(run: HifiganConfig, given: HifiganConfig) -> list[str]:
    """`KEY X (the run's Y)` for each config key in which `given` differs from the `run`'s, in field order."""
    return [f"{f.name} {getattr(given, f.name)!r} (the run's {getattr(run, f.name)!r})" for f in fields(run)
            if getattr(given, f.name) != getattr(run, f.name)]


def check_config_again(run: HifiganConfig, given: HifiganConfig, spelled: str | os.PathLike | HifiganConfig,
                       checkpoint: str | os.PathLike, cli: bool) -> None:
    """Nothing when `given` (--config laid over the run's, the job's overrides applied to both) is the run's
    config; else a ConfigError naming the resumed checkpoint and every key that differs (the options as `cli`
    says: option_names)."""
    differences = config_differences(run, given)
    if differences:
        shown = "the given config" if isinstance(spelled, HifiganConfig) else setting("config", spelled, cli)
        raise ConfigError(checkpoint, f"{shown} differs from the resumed run's config: {', '.join(differences)}; a "
                                      f"resumed run keeps its config (leave {flag('config', cli)} out, or start a new "
                                      f"run with {flag('init_from', cli)} this checkpoint to train on with another)")


def overrides_said(run: HifiganConfig, overrides: dict[str, int], cli: bool) -> str | None:
    """The line that says which of the job's config overrides change the resumed run's config from now on (None:
    none changes it), as run_settings says the run settings given anew (named as `cli` says: option_names)."""
    changed = [f"{setting(k, v, cli)} (the run's: {getattr(run, k)})" for k, v in overrides.items()
               if getattr(run, k) != v]
    return f"given anew, these replace the run's config from now on: {'; '.join(changed)}" if changed else None
