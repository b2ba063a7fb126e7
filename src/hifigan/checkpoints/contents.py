"""What a checkpoint is, ours or official (jik876/hifi-gan g_* / do_*), and the generator, discriminators, optimizer
states and config it holds, in our keys: the one place `Vocoder`, export, `--init-from`, a resume and
export-official ask."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from hifigan.checkpoints.config_over import MODEL_KEYS, ConfigSource, config_over_model
from hifigan.checkpoints.format import (
    GENERATOR_PART,
    checked_format,
    config_of,
    is_own_checkpoint,
    load_state_strict,
    read_checkpoint,
)
from hifigan.checkpoints.key_spelling import Spelling, file_spelling
from hifigan.checkpoints.official import (
    GENERATOR_PARTS,
    OFFICIAL_DISCRIMINATORS,
    StateDict,
    held_modules,
    is_bare_generator,
    is_bare_state,
    is_official_discriminators,
    is_official_generator,
    official_to_ours,
)
from hifigan.checkpoints.official_blocks import as_official_code_builds, resblock_number
from hifigan.config import HIFIGAN_GENERATOR, HifiganConfig, load_config
from hifigan.errors import CheckpointError, Note
from hifigan.messages.option_names import wanted
from hifigan.messages.plural import count
from hifigan.models.discriminators import MultiPeriodDiscriminator, MultiScaleDiscriminator
from hifigan.models.generators import empty_generator

OFFICIAL_CONFIG_NAME = "config.json"  # the config the official train.py copies beside its g_*/do_* files


@dataclass(frozen=True)
class CheckpointContents:
    """A checkpoint's contents (read weights-only) and the file they came from; ours unless `official`. A generator's
    bare state dict (`torch.save(generator.state_dict(), ...)`, ours or the official Generator's) is read as the
    official g_* dict holding it, `bare` said."""

    contents: dict[str, Any]
    source: str | os.PathLike | None = None
    bare: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if is_bare_generator(self.contents):
            object.__setattr__(self, "contents", {"generator": self.contents})
            object.__setattr__(self, "bare", True)

    @classmethod
    def read(cls, path: str | os.PathLike, part: tuple[str, ...] | None = None) -> CheckpointContents:
        """The file's contents; `part`: only those keys of one of ours (format.read_checkpoint)."""
        return cls(read_checkpoint(path, part), path)

    @classmethod
    def of(cls, checkpoint: str | os.PathLike | dict[str, Any], part: tuple[str, ...] | None = None
           ) -> CheckpointContents:
        """A file's contents (`part`: as read() reads it), or a checkpoint dict already loaded, read alike; else a
        one-line TypeError."""
        if isinstance(checkpoint, dict):
            return cls(checked_format(checkpoint, None), None)
        if not isinstance(checkpoint, str | os.PathLike):
            raise TypeError(f"checkpoint must be a file's path (a str or os.PathLike) or a loaded checkpoint dict, "
                            f"not a {type(checkpoint).__name__}")
        return cls.read(checkpoint, part)

    @property
    def official(self) -> bool:
        return not is_own_checkpoint(self.contents)

    def config(self, given: ConfigSource | None = None, default: str | None = None, cli: bool = False
               ) -> HifiganConfig:
        """Ours: the config inside, with the keys a `given` file sets laid over it (config_over_model: they may not
        change the model). Official: `given`, the whole config (a partial file: the rest is V1's); without one, the
        config.json beside a generator file (official_config_beside: what the official inference.py reads, said in
        a Note), else `default`, else a one-line error. Messages name the `config` argument, or with `cli` the
        command's --config (option_names)."""
        return self.named_config(given, default, cli)[0]

    def named_config(self, given: ConfigSource | None = None, default: str | None = None, cli: bool = False,
                     keys: tuple[str, ...] = MODEL_KEYS) -> tuple[HifiganConfig, str | os.PathLike | None]:
        """config(), and the file or preset it was read from where the weights are read with it (an official or a
        bare file's config, for the errors of weights that do not fit it); None for ours and a HifiganConfig.
        `keys`: those `given` may not change in ours (config_over_model's)."""
        if not self.official:
            own = config_of(self.contents, self.source)
            return config_over_model(own, given, self.source, "checkpoint's config", cli, keys), None
        if given is None:
            given = self.config_beside(cli) or default
        if given is None:
            kind = "a generator's bare state dict" if self.bare else "official checkpoint"
            raise CheckpointError(self.source, f"{kind} carries no config: pass "
                                               f"{wanted('config', cli=cli)} (a preset such as v1, or a json)")
        config, name = load_config(given), None if isinstance(given, HifiganConfig) else given
        if not is_official_generator(self.contents):
            return config, name
        return as_official_code_builds(config, self.generator_state()), name

    def config_beside(self, cli: bool) -> Path | None:
        """The official config.json in the folder of this official generator file, noted (a Note warning) as the
        config it is read with; None where there is none (or the file is no official generator)."""
        beside = official_config_beside(self.source) if is_official_generator(self.contents) else None
        if beside is not None:
            warnings.warn(Note(f"{self.source}: no config given: using {beside}, beside it, as the official "
                               f"inference.py does (pass {wanted('config', cli=cli)} to use another)"), stacklevel=3)
        return beside

    @property
    def generator_name(self) -> str:
        """The registered name of the generator the file holds (config.generator; official files and our
        checkpoints from before the key: the HiFi-GAN generator)."""
        config = self.contents.get("config") if not self.official else None
        name = config.get("generator") if isinstance(config, dict) else None
        return name if isinstance(name, str) else HIFIGAN_GENERATOR

    def generator_state(self, generator: str | None = None) -> StateDict:
        """The generator's weights, in our keys. `generator`: the name a config gives, which must be the one the file
        holds (an official g_* file holds the HiFi-GAN generator only); None: whichever it holds."""
        self.require_generator(generator)
        return in_our_keys(self.contents["generator"])

    def spelling(self, name: str = "generator") -> Spelling | None:
        """How the file spells our keys of its `name` weights (key_spelling.file_spelling), for the messages of
        weights that do not fit; None where they are no state dict (load_state_strict refuses them)."""
        state = self.contents.get(name)
        return file_spelling(state) if _is_state(state) else None

    def require_generator(self, generator: str | None = None) -> None:
        """A one-line CheckpointError unless the file holds a generator (named `generator`, when given): a training
        checkpoint without one, an official do_* file or another file are refused by what they are."""
        if not self.official:
            if "generator" not in self.contents:
                raise CheckpointError(self.source, "checkpoint holds no generator")
        elif is_official_discriminators(self.contents):
            raise CheckpointError(self.source, "an official do_* file (discriminators and optimizer states), not a "
                                               f"generator: give the g_* file of the same step{_g_beside(self.source)}")
        elif is_bare_state(self.contents):
            held = f"{count(len(self.contents), 'tensor')} under {held_modules(self.contents)}"
            raise CheckpointError(self.source, f"holds a bare state dict of {held}, not a HiFi-GAN generator's "
                                               f"({', '.join(GENERATOR_PARTS)})")
        elif not is_official_generator(self.contents):
            raise CheckpointError(self.source, "not a HiFi-GAN generator checkpoint (neither ours nor an official "
                                               "g_* file)")
        if generator is not None and generator != self.generator_name:
            held = f"holds generator {self.generator_name!r}"
            if self.official:
                held = "an official g_* file holds the HiFi-GAN generator only"
            raise CheckpointError(self.source, f"{held}; the config names generator {generator!r}")

    def discriminator_names(self, wanted: list[str]) -> list[str]:
        """Those of the `wanted` discriminators this file can hold: any for ours, MPD and MSD for an official one."""
        return list(wanted) if not self.official else [n for n in wanted if n in OFFICIAL_DISCRIMINATORS]

    def discriminator_states(self, names: list[str] | tuple[str, ...]) -> dict[str, StateDict]:
        """name -> that discriminator's weights in our keys (ours store each under its name, as official do_* files
        store mpd and msd)."""
        if self.official and not is_official_discriminators(self.contents):
            raise CheckpointError(self.source, "not a discriminator checkpoint (needs 'mpd' and 'msd')")
        states = {}
        for name in names:
            if name not in self.contents:
                raise CheckpointError(self.source, f"holds no {name} weights")
            states[name] = in_our_keys(self.contents[name])
        return states

    def load_discriminators(self, modules: Mapping[str, nn.Module]) -> None:
        """Each of `modules` (name -> discriminator) loaded with the weights the file holds under its name, exactly
        (load_state_strict, a mismatch named as the file spells it)."""
        for name, weights in self.discriminator_states(list(modules)).items():
            load_state_strict(modules[name], weights, self.source, name, spelled=self.spelling(name))

    def optimizer_state(self, name: str) -> dict[str, Any] | None:
        """The `name` ("optim_g" or "optim_d") optimizer state when the file holds one with moments; both formats
        store it alike (parameters indexed in the order both codes share)."""
        state = self.contents.get(name)
        return state if isinstance(state, dict) and state.get("state") else None


def in_our_keys(state: Any) -> Any:
    """A module's weights in our keys, whatever file they come from: an official one's and ours alike may spell its
    norms the old hook-based way (a script that saved torch.nn.utils.weight_norm modules into our dict), renamed
    exactly (official_to_ours); anything but a state dict as it is, for load_state_strict to refuse."""
    return official_to_ours(state) if _is_state(state) else state


def _is_state(state: Any) -> bool:
    """A dict keyed by names: what official_to_ours and file_spelling read."""
    return isinstance(state, dict) and all(isinstance(key, str) for key in state)


def official_discriminator_file(generator_file: Path) -> Path | None:
    """The do_<steps> file beside an official g_<steps> file (the official train.py writes both), if present."""
    if not generator_file.name.startswith("g_"):
        return None
    sibling = generator_file.with_name("do_" + generator_file.name[2:])
    return sibling if sibling.is_file() else None


def official_config_beside(generator_file: str | os.PathLike | None) -> Path | None:
    """DIR/config.json for an official generator file DIR/g_*, if present: the official train.py copies its config
    there, and the official inference.py reads it from the checkpoint's folder."""
    if generator_file is None:
        return None
    beside = Path(generator_file).parent / OFFICIAL_CONFIG_NAME
    return beside if beside.is_file() else None


def generator_with(state: StateDict, config: HifiganConfig, source: str | os.PathLike | None,
                   config_name: str | os.PathLike | None = None, spelled: Spelling | None = None) -> nn.Module:
    """The generator config.generator names (training mode, weight norm kept; hifigan.models.generators) holding
    `state` (our keys), which must fit it exactly; `config_name`: the config's file or preset, which a misfit names
    (with resblock_number's hint), its keys as the file spells them (`spelled`: CheckpointContents.spelling). Built
    without the random initialisation the weights replace (empty_generator)."""
    generator = empty_generator(config)
    load_generator_state(generator, state, config, source, config_name, spelled)
    return generator


def load_generator_state(generator: nn.Module, state: StateDict, config: HifiganConfig,
                         source: str | os.PathLike | None, config_name: str | os.PathLike | None = None,
                         spelled: Spelling | None = None) -> None:
    """`state` (our keys) into `generator`, built from `config`, which it must fit exactly; a misfit names
    `config_name` (the config's file or preset) with resblock_number's hint, and its key as `spelled` spells it."""
    try:
        load_state_strict(generator, state, source, "generator", config_name, spelled)
    except CheckpointError as e:
        raise CheckpointError(source, e.problem + resblock_number(config_name, config, state)) from None


def load_generator(path: str | os.PathLike | dict[str, Any], config: ConfigSource | None = None, *, cli: bool = False
                   ) -> tuple[nn.Module, HifiganConfig]:
    """Generator (training-mode, weight norm kept) and its config from our checkpoint, an official `g_*` file or a
    generator's bare state dict (`path`: the file, or its contents already loaded).

    An official file carries no config: `config`, else the official config.json beside it; ours carries its own.
    Messages name the `config` argument (`pass config=...`), or with `cli` the command's --config. Of a training
    checkpoint, only the generator and config are read (GENERATOR_PART).
    """
    checkpoint = CheckpointContents.of(path, GENERATOR_PART)
    checkpoint.generator_state()  # first what the file is (one holding a generator), then which config it needs
    cfg, name = checkpoint.named_config(config, cli=cli)
    state = checkpoint.generator_state(cfg.generator)
    return generator_with(state, cfg, checkpoint.source, name, checkpoint.spelling()), cfg


def load_official_generator(
    state_dict: StateDict | dict[str, StateDict], config: HifiganConfig, source: str | os.PathLike | None = None
) -> nn.Module:
    """The HiFi-GAN generator holding an official checkpoint's 'generator' weights (the g_* dict or its
    'generator' entry), its residual blocks built as the official code built them (as_official_code_builds: the
    CLI's reading of the same file)."""
    if not isinstance(state_dict.get("generator"), dict):
        state_dict = {"generator": state_dict}
    contents = CheckpointContents(state_dict, source)
    state = contents.generator_state(config.generator)
    return generator_with(state, as_official_code_builds(config, state), source, spelled=contents.spelling())


def load_official_discriminators(
    discriminator_dict: dict[str, Any], source: str | os.PathLike | None = None
) -> tuple[MultiPeriodDiscriminator, MultiScaleDiscriminator]:
    """MPD and MSD holding an official `do_*` checkpoint's weights."""
    mpd, msd = MultiPeriodDiscriminator(), MultiScaleDiscriminator()
    CheckpointContents(discriminator_dict, source).load_discriminators({"mpd": mpd, "msd": msd})
    return mpd, msd


def _g_beside(source: str | os.PathLike | None) -> str:
    """' (NAME, beside it)' where the official do_<step> file `source` has its g_<step> in its folder; else ''."""
    path = Path(source) if source is not None else None
    if path is None or not path.name.startswith("do_"):
        return ""
    generator = path.with_name("g_" + path.name[3:])
    return f" ({generator}, beside it)" if generator.is_file() else ""
