"""Config files: the presets (package data, by name) and reading a JSON or YAML config file to its raw mapping, a
relative `mel_stats` made the file's. hifigan.config builds the typed config from it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hifigan.errors import ConfigError
from hifigan.messages.plural import a_type

PRESETS = Path(__file__).parent.parent / "configs"  # the preset files `--config NAME` reads (package data)


def preset_names() -> list[str]:
    """The presets `--config NAME` takes: the files in hifigan/configs, by name."""
    return sorted(p.stem for p in PRESETS.glob("*.json"))


def preset_path(name: str) -> Path | None:
    """The file of preset `name` (any case), or None."""
    path = PRESETS / f"{name.lower()}.json"
    return path if name and "/" not in name and path.is_file() else None


def read_config_file(name_or_path: str | os.PathLike) -> tuple[Path, dict[str, Any], bool]:
    """The file a config name or path means, its raw mapping, and whether the name was a preset's; what is neither
    (a dict, a number) is a TypeError, not read as a path named by its repr."""
    if not isinstance(name_or_path, str | os.PathLike):
        hint = (" (a config file's keys, as json.load gives them? hifigan.config.config_from_dict(values) builds the "
                "config)") if isinstance(name_or_path, dict) else ""
        raise TypeError("config must be a preset name, a config file's path (a str or os.PathLike) or a "
                        f"HifiganConfig, not {a_type(name_or_path)}{hint}")
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
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark (Windows editors) is no part of the text
    except OSError as e:
        raise ConfigError(path, f"cannot read ({e})") from None
    except UnicodeDecodeError:  # a checkpoint, most likely: its config is inside, but --config takes text
        raise ConfigError(path, "not a JSON or YAML config (a binary file: a checkpoint? a config is a preset name "
                                "or a text file such as `hifigan configs --show NAME` prints)") from None
    if not text.strip():
        raise ConfigError(path, "is empty, expected a mapping of config keys")
    values = _parsed(path, text)
    if not isinstance(values, dict):
        raise ConfigError(path, f"must contain a mapping of config keys, got {_kind(values)}")
    stats = values.get("mel_stats")
    if isinstance(stats, str) and not Path(stats).is_absolute():
        values["mel_stats"] = str(path.parent / stats)
    return path, values, preset


class _TwiceError(ValueError):
    """A key given twice in one mapping: the parsers would keep the last one without a word."""


def _parsed(path: Path, text: str) -> Any:
    """The file's text parsed as YAML (.yaml, .yml) or JSON (any other name); a key given twice in one mapping, or
    a syntax error, is one line naming where."""
    yaml_file = path.suffix.lower() in (".yaml", ".yml")
    try:
        if yaml_file:
            import yaml

            return yaml.load(text, Loader=_unique_keys_loader())  # a SafeLoader
        return json.loads(text, object_pairs_hook=_unique_pairs)
    except _TwiceError as e:
        raise ConfigError(path, f"{e}: keep one (the parser would take the last without a word)") from None
    except Exception as e:  # any parser failure means a bad file
        kind = "YAML" if yaml_file else "JSON"
        hint = "" if yaml_file or path.suffix.lower() == ".json" else "; a file not named .yaml or .yml is read as JSON"
        raise ConfigError(path, f"not valid {kind} ({_parser_problem(e)}{hint})") from None


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict, refusing a key given twice."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _TwiceError(f"key {key!r} is given twice")
        seen[key] = value
    return seen


def _unique_keys_loader() -> type:
    """PyYAML's safe loader, refusing a key given twice in one mapping (keys merged in with `<<` may be set again:
    that is what merging is for)."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            lines: dict[Any, int] = {}
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                    key = self.construct_object(key_node)
                    line = key_node.start_mark.line + 1
                    if key in lines:
                        where = f"line {line}" if lines[key] == line else f"lines {lines[key]} and {line}"
                        raise _TwiceError(f"key {key!r} is given twice ({where})")
                    lines[key] = line
            return super().construct_mapping(node, deep)

    return UniqueKeyLoader


def _parser_problem(error: Exception) -> str:
    """What a parser says went wrong, in one line: YAML's problem and where (its first line is often only the
    context, 'while scanning for the next token'); JSON's message names the line and column itself."""
    mark, problem = getattr(error, "problem_mark", None), getattr(error, "problem", None)
    if mark is not None and problem:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _kind(value: Any) -> str:
    """'a list', 'a string', 'null': what a file holds instead of a mapping."""
    if value is None:
        return "null"
    name = {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value),
                                                                                             type(value).__name__)
    return f"a {name}"
