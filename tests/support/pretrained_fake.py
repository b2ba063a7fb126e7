"""A registered pretrained model built here: `tiny-test`, an official-format tiny generator (8 kHz, 80 mel bins) in
the fake installed distribution `hifigan-fake-weights`, whose __init__ raises (reading it must never import it)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import torch

from hifigan.pretrained import MODELS, PretrainedModel
from tests.support.fake_distribution import install_distribution
from tests.support.files import save_config_json
from tests.support.official_reference import RefGenerator
from tests.support.tiny import tiny_config

PACKAGE, VERSION = "hifigan-fake-weights", "1.0"
FILE = "hifigan_fake_weights/data/generator_tiny.pth.tar"
TOL = 1e-4


def official_bytes(cfg, seed: int = 0) -> tuple[bytes, dict]:
    """An official g_* file (legacy torch format, as the real files are) of a seeded reference generator."""
    torch.manual_seed(seed)
    state = RefGenerator(cfg).state_dict()
    buffer = io.BytesIO()
    torch.save({"generator": state}, buffer, _use_new_zipfile_serialization=False)
    return buffer.getvalue(), state


def make_tiny80(folder) -> tuple:
    """The tiny config (8 kHz) with the official generator's 80 mel bins, its json file in `folder`, the official
    file's bytes and its state."""
    cfg = tiny_config("1", num_mels=80, n_fft=512, win_size=512)
    data, state = official_bytes(cfg)
    return cfg, save_config_json(folder / "tiny80.json", cfg), data, state


def tiny_model(tiny80, **changes) -> PretrainedModel:
    _, config_json, data, _ = tiny80
    values = dict(name="tiny-test", package=PACKAGE, version=VERSION, path=FILE,
                  sha256=hashlib.sha256(data).hexdigest(), size=len(data), config=str(config_json),
                  origin="a seeded official-format test generator", data="nothing", licence="MIT",
                  seen_ljspeech="none")
    return PretrainedModel(**{**values, **changes})


def register(tmp_path, monkeypatch, tiny80) -> Path:
    """`tiny-test` registered and installed (a fake distribution on sys.path); the path of its file."""
    site = install_distribution(tmp_path / "site", PACKAGE, VERSION, {FILE: tiny80[2]})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setitem(MODELS, "tiny-test", tiny_model(tiny80))
    return site / FILE


def keep_only(monkeypatch, *names: str) -> None:
    """Only these models in the registry: the demo compares with every installed model, the real V1s too. (A new
    dict: deleting and restoring entries would change the registry's order.)"""
    import hifigan.pretrained

    monkeypatch.setattr(hifigan.pretrained, "MODELS", {name: MODELS[name] for name in names})
