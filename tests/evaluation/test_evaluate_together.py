"""Several systems scored against the same recordings in one pass (evaluation/scoring.py): each recording decoded
once and its pitch track computed once per cut (pitch.ReferenceTracks), every value the one each system gets alone
and the one computed without the shared track, bit for bit."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from hifigan.config import load_config
from hifigan.evaluation.metrics import compute_metrics
from hifigan.evaluation.pitch import DEFAULT_PITCH, ReferenceTracks
from hifigan.evaluation.scoring import PairJob, score_pairs, score_systems
from tests.support.calls import python_calls
from tests.support.cli_runs import run
from tests.support.signals import SR, speechlike, with_noise_at_snr

CONFIG = load_config("v1")  # 22.05 kHz, hop 256
PITCH = ("f0_rmse_cents", "vuv_f1", "periodicity_rmse")
SHORT = 200  # samples system b's files lack at the end (less than a hop): its recordings are cut to them


def job(names: tuple[str, ...]) -> PairJob:
    return PairJob(CONFIG, names, False, False, CONFIG.hop_size, 0, DEFAULT_PITCH, cli=False)


@pytest.fixture(scope="module")
def systems(tmp_path_factory):
    """ref/ (two 0.3 s clips), a/ and c/ (the recordings with noise at 20 dB, two draws), b/ (a/, SHORT samples
    shorter)."""
    root = tmp_path_factory.mktemp("together")
    for name in ("ref", "a", "b", "c"):
        (root / name).mkdir()
    for i, stem in enumerate(["x", "y"]):
        voice = speechlike(0.3, SR, seed=i)
        noisy, other = (np.clip(with_noise_at_snr(voice, 20.0, seed), -1, 1) for seed in (i, i + 10))
        sf.write(root / "ref" / f"{stem}.wav", voice, SR, subtype="PCM_16")
        sf.write(root / "a" / f"{stem}.wav", noisy, SR, subtype="PCM_16")
        sf.write(root / "b" / f"{stem}.wav", noisy[:-SHORT], SR, subtype="PCM_16")
        sf.write(root / "c" / f"{stem}.wav", other, SR, subtype="PCM_16")
    return root


def pairs_of(root, system: str) -> list[tuple]:
    return [(stem, root / "ref" / f"{stem}.wav", root / system / f"{stem}.wav") for stem in ("x", "y")]


def test_a_recordings_track_is_computed_once_per_cut_and_is_the_fresh_one():
    """Against four generated signals, one as long, one a part-hop shorter (the recording cut to it), one late by 3
    samples and one early by 3 (cut by the delay found: its last samples, or as many of its first): four tracks of
    the recording, each the one computed afresh, bit for bit; scored again, none is computed again."""
    reference = speechlike(0.3, SR, seed=3)
    noisy = with_noise_at_snr(reference, 25.0, seed=3).astype(np.float32)
    three = np.zeros(3, np.float32)
    generated = [noisy, noisy[:-SHORT], np.concatenate([three, noisy[:-3]]), np.concatenate([noisy[3:], three])]
    shifts = (0, 0, 4, 4)
    tracks = ReferenceTracks()
    for gen, shift in zip(generated, shifts):
        shared = compute_metrics(reference, gen, CONFIG, PITCH, max_shift=shift, reference_tracks=tracks)
        alone = compute_metrics(reference, gen, CONFIG, PITCH, max_shift=shift)
        assert repr(shared) == repr(alone)  # every float's repr: the exact bits
    assert len(tracks) == 4
    again = python_calls(lambda: [compute_metrics(reference, gen, CONFIG, PITCH, max_shift=shift,
                                                  reference_tracks=tracks) for gen, shift in zip(generated, shifts)])
    assert again["hifigan.evaluation.pitch.pitch_track"] == 4 and len(tracks) == 4  # the generated signals' only


def test_systems_scored_together_get_the_values_each_gets_alone_reading_each_file_once(systems):
    """Three systems, two recordings: each recording is decoded once, and tracked once for b/ (shorter) and once
    for a/ and c/ (as long as it): 8 decodings and 10 pitch tracks, where scoring each system alone takes 12 of
    each; the values are those of each system scored alone, bit for bit."""
    scored = [pairs_of(systems, name) for name in ("b", "a", "c")]
    together: list = []
    calls = python_calls(lambda: together.extend(score_systems(scored, job((*PITCH, "snr")), False, workers=1)))
    assert calls["hifigan.audio.decode_audio"] == 8 and calls["hifigan.evaluation.pitch.pitch_track"] == 10
    alone = [score_pairs(pairs, job((*PITCH, "snr")), False, workers=1) for pairs in scored]
    assert repr(together) == repr(alone)
    assert [r.trimmed_samples for r in together[0]] == [SHORT, SHORT]  # b's recordings were cut


def test_systems_scored_together_in_workers_get_the_serial_values(systems):
    scored = [pairs_of(systems, name) for name in ("a", "b")]
    serial = score_systems(scored, job(("mel_l1", "snr", "vuv_f1")), False, workers=1)
    pooled = score_systems(scored, job(("mel_l1", "snr", "vuv_f1")), False, workers=2)
    assert repr(pooled) == repr(serial)


def test_the_reports_of_systems_evaluated_together_are_those_of_each_alone(systems, tmp_path, capsys):
    """`hifigan evaluate --system a=... --system b=...` writes for each system the report (its timing aside) that
    evaluating it alone writes, and prints the same table."""
    ref = systems / "ref"
    argv = ["--metrics", "mel_l1,snr", "--no-progress"]
    code, both, err = run(capsys, "evaluate", "--reference", ref, "--system", f"a={systems / 'a'}", "--system",
                          f"b={systems / 'b'}", "--out", f"{tmp_path}/", *argv)
    assert code == 0, err
    for name in ("a", "b"):
        code, alone, err = run(capsys, "evaluate", "--reference", ref, "--system", systems / name,
                               "--out", tmp_path / name, *argv)
        assert code == 0, err
        reports = [json.loads(path.read_text()) for path in (tmp_path / f"evaluation-{name}.json",
                                                              tmp_path / f"{name}.json")]
        assert [report.pop("timing")["audio_seconds"] for report in reports] == [pytest.approx(0.6, abs=0.02)] * 2
        assert reports[0] == reports[1]
        table = alone.split("\n", 1)[1].rsplit("\nwrote ", 1)[0]  # after the 'measured at' line
        assert f"== {name} ({systems / name})\n{table}" in both
