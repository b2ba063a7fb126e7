"""Config files: the presets (package data, by name) and reading a JSON or YAML config file to its raw mapping, a
relative `mel_stats` made the file's. hifigan.config builds the typed config from it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hifigan.errors import ConfigError

PRESETS = Path(__file__).parent / "configs"  # the preset files `--config NAME` reads (package data)


def preset_names() -> list[str]:
    """The presets `--config NAME` takes: the files in hifigan/configs, by name."""
    return sorted(p.stem for p in PRESETS.glob("*.json"))


def preset_path(name: str) -> Path | None:
    """The file of preset `name` (any case), or None."""
    path = PRESETS / f"{name.lower()}.json"
    return path if name and "/" not in name and path.is_file() else None


def read_config_file(name_or_path: str | os.PathLike) -> tuple[Path, dict[str, Any], bool]:
    """The file a config name or path means, its raw mapping, and whether the name was a preset's."""
    key = str(name_or_path)
    if not key.strip():  # Path("") is ".", the current folder
        raise ConfigError(None, f"config {key!r}: an empty name is not a config (a preset such as v1, or a file)")
    path = Path(key)
    preset = (not path.exists() or path.is_dir()) and preset_path(key) is not None  # a folder is never a config
    if preset:
        path = preset_path(key)
    elif not path.exists():
        raise ConfigError(path, f"no such config file or preset (presets: {', '.join(preset_names())})")
    if path.is_dir():
        raise ConfigError(path, "is a directory, expected a JSON or YAML config")
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(path, f"cannot read ({e})") from None
    except UnicodeDecodeError:  # a checkpoint, most likely: its config is inside, but --config takes text
        raise ConfigError(path, "not a JSON or YAML config (a binary file: a checkpoint? a config is a preset name "
                                "or a text file such as `hifigan configs --show NAME` prints)") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            values = yaml.safe_load(text)
        else:
            values = json.loads(text)
    except Exception as e:  # any parser failure means a bad file
        kind = "YAML" if path.suffix.lower() in (".yaml", ".yml") else "JSON"
        raise ConfigError(path, f"not valid {kind} ({str(e).splitlines()[0]})") from None
    if not isinstance(values, dict):
        raise ConfigError(path, "must contain a mapping of config keys")
    stats = values.get("mel_stats")
    if isinstance(stats, str) and not Path(stats).is_absolute():
        values["mel_stats"] = str(path.parent / stats)
    return path, values, preset
