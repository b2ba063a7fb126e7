"""The one rule of a list option: one argument, its names comma-separated (`--metrics mel_l1,snr`, `--presets v1,v3`,
`--backends eager,fused:bf16`, train's `--valid-speakers p225,p226`), so that a list never takes the arguments after
it. The lists once given space-separated (evaluate --metrics, bench --presets) still parse so for one release, with
a note. A list of folders, which may hold commas, is the option repeated instead (--system)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def comma_names(text: str) -> list[str]:
    """The names of `a,b,c`, in order; an empty one is a usage error (`a,,b`, a trailing comma)."""
    names = [name.strip() for name in text.split(",")]
    if "" in names:
        raise argparse.ArgumentTypeError(f"a name is empty in {text!r} (names are separated by commas: a,b)")
    return names


comma_names.__name__ = "list"  # argparse's `invalid list value` if ever used without its own message


class NameList(argparse.Action):
    """Stores the names of a list option (comma_names of each argument); several arguments, the old space-separated
    spelling (nargs '+' or '*'), are joined with a note naming the comma spelling."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        given = values if self.nargs in ("+", "*") else [values]
        names = [name for part in given for name in part]
        if len(given) > 1:
            spaced = " ".join(",".join(part) for part in given)
            namespace.deprecations = [*namespace.deprecations, f"{option_string} {spaced} (space-separated) is "
                                      f"deprecated, use {option_string} {','.join(names)}"]
        setattr(namespace, self.dest, names)


def add_list(p: argparse.ArgumentParser | argparse._ArgumentGroup, option: str, help: str, *, metavar: str = "NAMES",
             old_spaced: str | None = None, kind: Callable[[str], list[str]] = comma_names) -> argparse.Action:
    """A list option by the rule (a list of names, default None; `kind` splits one argument, where the names have
    rules of their own); `old_spaced` '+' or '*', the nargs it was given space-separated with ('*': the option alone
    is the empty list)."""
    return p.add_argument(option, action=NameList, type=kind, nargs=old_spaced, default=None, metavar=metavar,
                          help=help)
