"""What the scan read survives: a cache row is reused under other read options (--resample, --mix-to-mono) where they
do not change that file's facts, and a scan stopped by Ctrl-C keeps the rows read by then, never taken as a whole
scan."""

from __future__ import annotations

import os
import shutil
import signal
import time

import numpy as np
import pytest
import soundfile as sf

from hifigan.audio import find_audio
from hifigan.data.scan_cache import gather_facts
from hifigan.data.scan_row import ReadSettings, read_one
from tests.support.tiny import tiny_config

RATE = tiny_config().sampling_rate


def _mixed_corpus(folder, tiny_corpus):
    """The tiny corpus (8 mono clips at the model rate) plus two clips at twice the rate and one in stereo."""
    shutil.copytree(tiny_corpus, folder)
    audio, rate = sf.read(tiny_corpus / "clip00.wav", dtype="int16")
    assert rate == RATE
    for name in ("fast1.wav", "fast2.wav"):
        sf.write(folder / name, np.repeat(audio, 2), 2 * RATE, subtype="PCM_16")
    sf.write(folder / "stereo.wav", np.stack([audio, audio // 2], axis=1), RATE, subtype="PCM_16")
    return find_audio(folder)


@pytest.mark.parametrize("first, then, read", [
    (ReadSettings(RATE), ReadSettings(RATE, resample=True), 2),  # the two clips at another rate
    (ReadSettings(RATE), ReadSettings(RATE, resample=True, mix_to_mono=True), 3),  # and the stereo one
    (ReadSettings(RATE, resample=True), ReadSettings(RATE), 2),  # read resampled: refused without --resample
    (ReadSettings(RATE, mix_to_mono=True), ReadSettings(RATE, mix_to_mono=True), 0),
    (ReadSettings(RATE), ReadSettings(2 * RATE, resample=True), 11),  # another model rate: every length changes
])
def test_only_the_rows_another_option_changes_are_read_again(tmp_path, tiny_corpus, first, then, read):
    files = _mixed_corpus(tmp_path / "c", tiny_corpus)
    cache = tmp_path / "run" / "scan-cache.npz"
    assert gather_facts(files, first, cache, progress=False).read == 11
    again = gather_facts(files, then, cache, progress=False)
    fresh = gather_facts(files, then, progress=False)  # every file read under `then`: what the cache must give
    assert again.read == read
    assert np.array_equal(again.rows, fresh.rows) and again.problems == fresh.problems


def _interrupts_on(path: str, settings: ReadSettings) -> tuple:
    """read_one, but the file named clip05.wav has the scan's process sent SIGINT (Ctrl-C) while it is read: from a
    worker process, its parent; read in the process itself, that process."""
    row = read_one(path, settings)
    if path.endswith("clip05.wav"):
        time.sleep(0.3)  # the rows of the files before it reach the parent first
        os.kill(os.getppid() if os.getpid() != _SCANNER else os.getpid(), signal.SIGINT)
    return row


_SCANNER = os.getpid()


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_mid_scan_keeps_the_rows_read_and_the_rerun_reads_the_rest(tmp_path, tiny_corpus, workers):
    files = _mixed_corpus(tmp_path / "c", tiny_corpus)
    cache = tmp_path / "run" / "scan-cache.npz"
    with pytest.raises(KeyboardInterrupt):
        gather_facts(files, ReadSettings(RATE), cache, workers=workers, progress=False, save=False,
                     reader=_interrupts_on)
    again = gather_facts(files, ReadSettings(RATE), cache, progress=False)
    if workers == 1:  # in order: clip00..clip04, read before it, are kept
        assert again.read == len(files) - 5
    else:  # the files read by then are kept (the other worker's too), not the one in flight
        assert 1 <= again.read <= len(files) - 5
    fresh = gather_facts(files, ReadSettings(RATE), progress=False)
    assert np.array_equal(again.rows, fresh.rows) and again.problems == fresh.problems
    assert gather_facts(files, ReadSettings(RATE), cache, progress=False).read == 0  # now whole
