"""Installed distributions built in a test's folder: a dist-info and data files on sys.path, as pip lays out a
wheel, so code that finds files through importlib.metadata is tested without the real package."""

from __future__ import annotations

from pathlib import Path


def install_distribution(site: Path, name: str, version: str, files: dict[str, bytes]) -> Path:
    """A minimal installed distribution in `site` (NAME-VERSION.dist-info/METADATA plus `files`, paths relative
    to `site`), whose package raises on import, so anything that imports it instead of reading it fails."""
    module = name.replace("-", "_")
    info = site / f"{module}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (site / module).mkdir(exist_ok=True)
    (site / module / "__init__.py").write_text('raise ImportError("data-only package: never import it")\n')
    for rel, data in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_bytes(data)
    return site
