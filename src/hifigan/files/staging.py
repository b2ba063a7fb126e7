"""A hidden folder for outputs computed before their own folder may be created (every input must pass its checks
first): made on the file system that folder will be on, so that each finished file is renamed into it, not copied,
and removed with whatever it still holds when the command ends, whether it succeeded or not."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from hifigan.files.atomic import fsync_folder
from hifigan.files.leftovers import remove_stale, writer_tag
from hifigan.files.write_failures import write_failure


@contextlib.contextmanager
def staging_folder(out: Path, prefix: str) -> Iterator[Path | None]:
    """A new hidden folder (`prefix`<writer tag>.XXXXXXXX) in `out`, or where `out` does not exist yet in its
    nearest existing parent, once the leftovers there of commands killed while writing are removed (leftovers); None
    where none can be made there (a file in the way, no permission: prepare_output_dir(out) names why). Removed with
    what it holds when the block ends."""
    nearest = next(f for f in (out, *out.parents) if os.path.lexists(f))  # out.parents ends at "." or "/"
    remove_stale(nearest)
    try:
        folder: Path | None = Path(tempfile.mkdtemp(prefix=f"{prefix}{writer_tag()}.", dir=nearest))
    except OSError:
        folder = None
    try:
        yield folder
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def move_staged(staged: Sequence[Path], out: Path) -> None:
    """Rename each staged file to out/<its name> (replacing a file there), then make the renames durable; a rename
    that fails is a one-line error naming its target (the files moved before it are complete)."""
    for path in staged:
        target = out / path.name
        try:
            os.replace(path, target)
        except OSError as e:
            raise write_failure(target, e) from None
    fsync_folder(out)
