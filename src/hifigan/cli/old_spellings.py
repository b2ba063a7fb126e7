"""An option's old spelling, kept one release: it sets the new option's value and records the note main() prints
(`hifigan listen: note: --threads is deprecated, use --server-threads (...)`); hidden from --help and from the
did-you-mean hints."""

from __future__ import annotations

import argparse


class OldSpelling(argparse.Action):
    """The action of an old spelling: stores (`append`: appends) its value where the new option keeps its own, and
    adds `{old} is deprecated, use {new}` to the deprecations."""

    def __init__(self, option_strings: list[str], dest: str, new: str, append: bool = False, **kwargs) -> None:
        super().__init__(option_strings, dest, default=argparse.SUPPRESS, help=argparse.SUPPRESS, **kwargs)
        self.new, self.append = new, append

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        if self.append:
            values = [*(getattr(namespace, self.dest, None) or []), values]
        setattr(namespace, self.dest, values)
        namespace.deprecations = [*namespace.deprecations, f"{option_string} is deprecated, use {self.new}"]


def add_old_spelling(p: argparse.ArgumentParser | argparse._ArgumentGroup, old: str, new: argparse.Action) -> None:
    """`old`, the spelling the option `new` (its action, as add_argument returned it) replaces: the same value, read
    the same way (its type and metavar), with a note."""
    p.add_argument(old, dest=new.dest, action=OldSpelling, new="/".join(new.option_strings), type=new.type,
                   metavar=new.metavar, append=isinstance(new, argparse._AppendAction))
