"""A value of one kind is named one way in every command's --help: a count of mel frames is FRAMES (vocode
--chunk-frames said N beside bench's --stream-chunk-frames FRAMES), seconds are S with the default said in seconds
(bench --seconds SECONDS, serve --drain-timeout's `default 60`), another count is N (bench --repeats REPEATS), and a
default taken from the config reads `default: the config's` (train's said `default: config`)."""

from __future__ import annotations

import argparse
import re

from hifigan.cli.common import Amount, Count
from tests.cli.test_cli_grammar import subparsers

COUNT_WORDS = {"N", "SAMPLES", "FRAMES", "BYTES", "STEP"}  # what a whole number counts
AMOUNT_WORDS = {"S", "MS", "MINUTES", "FRACTION", "SCORE", "REF"}  # the unit or kind of a number


def _numbers():
    for name, parser in subparsers().items():
        for action in parser._actions:
            if action.option_strings and action.help != argparse.SUPPRESS and isinstance(action.type, Count | Amount):
                yield name, action.option_strings[0], action


def test_every_number_shows_a_word_of_its_kind():
    for name, option, action in _numbers():
        if option == "--port":  # PORT, the address's own word beside HOST
            continue
        words = COUNT_WORDS if isinstance(action.type, Count) else AMOUNT_WORDS
        assert action.metavar in words, f"{name} {option} shows {action.metavar}"


def test_frames_and_seconds_are_named_alike():
    about_frames = ("mel frames", "ready mel frames")
    frames = [(n, o) for n, o, a in _numbers() if o.endswith("-frames") or a.help.startswith(about_frames)]
    assert sorted(frames) == [("bench", "--stream-chunk-frames"), ("serve", "--max-frames"),
                              ("serve", "--stream-backlog"), ("vocode", "--chunk-frames")]
    assert [(n, o) for n, o, a in _numbers() if (n, o) in frames and a.metavar != "FRAMES"] == []
    seconds = [(n, o, a) for n, o, a in _numbers() if o.endswith("-timeout") or o == "--seconds"]
    assert len(seconds) == 7
    for name, option, action in seconds:
        assert action.metavar == "S" and f"default {action.default:g} s" in action.help, (name, option, action.help)


def test_a_default_from_the_config_is_said_one_way():
    for name, parser in subparsers().items():
        for action in parser._actions:
            assert not re.search(r"default: config\b", action.help or ""), (name, action.option_strings)
