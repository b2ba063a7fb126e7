"""A caller that stops reading the scan pool's results (Ctrl-C, an error: `hifigan mel` of a corpus) stops its
workers after the file each is on, instead of waiting for every file to be read (and every mel written)."""

from __future__ import annotations

import time
from pathlib import Path


def _touch_slowly(name: str, folder: str) -> tuple:
    time.sleep(0.01)
    (Path(folder) / Path(name).name).touch()
    return ()


def test_workers_stop_with_the_caller(tmp_path):
    from hifigan.data.scan_pool import read_files

    names = [f"f{i:03d}" for i in range(200)]
    results = read_files(names, str(tmp_path), _touch_slowly, 2, False)
    next(results)  # the first chunk's first result (12 files a chunk)
    results.close()  # what Ctrl-C or an error in the caller does to the generator
    time.sleep(0.3)  # a worker not stopped would go on reading
    done = len(list(tmp_path.iterdir()))
    assert 12 <= done <= 60, done  # the chunks under way, not the 200
