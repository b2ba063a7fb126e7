"""The options of the commands that train (train, demo), each defined once: --corpus, --segment-size and --seed."""

from __future__ import annotations

import argparse
from pathlib import Path

from hifigan.cli.common import Count
from hifigan.training.options import LEAST


def add_corpus(p: argparse.ArgumentParser | argparse._ArgumentGroup, *, required: bool = True) -> None:
    """--corpus DIR: the audio a command trains on, found as data.corpus.Corpus finds it."""
    p.add_argument("--corpus", required=required, type=Path, metavar="DIR",
                   help="folder of audio files (searched recursively)")


def add_segment_size(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """--segment-size SAMPLES: the config's segment_size replaced."""
    p.add_argument("--segment-size", type=Count(LEAST["segment_size"]), metavar="SAMPLES",
                   help="audio samples per clip, a multiple of hop (default: the config's)")


def add_seed(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """--seed N: the config's seed replaced."""
    p.add_argument("--seed", type=Count(LEAST["seed"]), metavar="N",
                   help="seed of the weights and the data order (default: the config's)")
