"""evaluate's pairs scored in worker processes (evaluation/scoring.py on data/scan_pool.py) give what this process
gives: the same bits, the same order, the same one-line error for a file that fails inside a worker."""

from __future__ import annotations

import contextlib
import sys

import numpy as np
import pytest
import soundfile as sf

from hifigan.audio import read_audio
from hifigan.config import load_config
from hifigan.errors import HifiganError
from hifigan.evaluation.pitch import DEFAULT_PITCH
from hifigan.evaluation.scoring import PairJob, score_pairs, score_systems
from tests.support.reads import opens_of
from tests.support.signals import SR, speechlike, with_noise_at_snr

CONFIG = load_config("v1")  # 22.05 kHz, hop 256


def job(names: tuple[str, ...]) -> PairJob:
    return PairJob(CONFIG, names, False, False, CONFIG.hop_size, 0, DEFAULT_PITCH, cli=False)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pairs")
    out = []
    for i in range(5):  # 1 s each (ESTOI needs 30 frames of 25.6 ms), generated = the recording with noise at 15-25 dB
        voice = speechlike(1.0, SR, seed=i).astype(np.float32)
        ref, gen = folder / f"ref{i}.wav", folder / f"gen{i}.wav"
        sf.write(ref, voice, SR, subtype="PCM_16")
        sf.write(gen, np.clip(with_noise_at_snr(voice, 15.0 + 2 * i, i), -1, 1), SR, subtype="PCM_16")
        out.append((f"clip{i}", ref, gen))
    return out


def test_workers_give_the_serial_values_bit_for_bit_in_order(pairs):
    names = ("mel_l1", "mcd", "snr", "estoi")  # estoi: pystoi draws noise from numpy's generator (a fixed draw)
    serial = score_pairs(pairs, job(names), progress=False, workers=1)
    pooled = score_pairs(pairs, job(names), progress=False, workers=2)
    assert [r.stem for r in pooled] == [f"clip{i}" for i in range(5)]
    assert repr(pooled) == repr(serial)  # every float's repr: the exact bits
    assert all(np.isfinite(list(r.metrics.values())).all() for r in serial)


def test_a_pitch_metric_in_workers_is_the_serial_one(pairs):
    serial = score_pairs(pairs[:2], job(("f0_rmse_cents",)), progress=False, workers=1)  # pYIN compiled here first
    pooled = score_pairs(pairs[:2], job(("f0_rmse_cents",)), progress=False, workers=2)
    assert repr(pooled) == repr(serial) and np.isfinite(serial[0].metrics["f0_rmse_cents"])


def test_a_file_failing_inside_a_worker_is_the_one_line_error_of_this_process(pairs, tmp_path):
    broken = tmp_path / "gen2.wav"
    broken.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")  # changed since the inputs were checked
    bad = [*pairs[:2], ("clip2", pairs[2][1], broken), *pairs[3:]]
    errors = []
    for workers in (1, 2):
        with pytest.raises(HifiganError) as caught:
            score_pairs(bad, job(("snr",)), progress=False, workers=workers)
        errors.append((caught.value.path, str(caught.value)))
    assert errors[0] == errors[1] and str(broken) in errors[1][1] and "\n" not in errors[1][1]


@pytest.mark.parametrize("progress", [True, False])
def test_a_python_caller_gets_the_bar_it_asks_for_off_a_terminal(pairs, capsys, progress):
    """The commands show bars on a terminal only (they pass progress=on_terminal()); a Python caller's
    progress=True (a notebook, whose stderr is no terminal) drew nothing once the pool decided by isatty itself."""
    score_pairs(pairs[:2], job(("snr",)), progress=progress, workers=1)
    assert ("evaluate: 100%" in capsys.readouterr().err) == progress


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux's inotify")
def test_recordings_the_caller_read_are_scored_in_workers_without_reading_them(pairs):
    """score_systems' `references` (what `vocode --evaluate` kept from its checks) reach the workers with their
    pairs: no recording is opened, the generated files are, and the values are the bits of reading the files."""
    references = {ref: read_audio(ref, SR) for _, ref, _ in pairs}
    names = ("mel_l1", "snr")
    with contextlib.ExitStack() as stack:
        opened = [stack.enter_context(opens_of(path)) for _, ref, gen in pairs for path in (ref, gen)]
        pooled = score_systems([pairs], job(names), False, workers=2, references=references)[0]
    assert [n[0] > 0 for n in opened] == [False, True] * len(pairs)
    assert repr(pooled) == repr(score_pairs(pairs, job(names), progress=False, workers=1))
