"""`hifigan listen --subset`: a study of a test set drawn from a larger corpus. Only the recordings of the stems the
systems hold are rated (the others are not even read), every system must hold the same stems, and without --subset
the refusal of a recording with no system file says that --subset would take the test set."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest

from hifigan.errors import HifiganError
from hifigan.evaluation.listening.serve import start_lines
from hifigan.evaluation.listening.study import REFERENCE, study_for
from tests.support.listen_server import run_busy, write_stimuli

SYSTEMS = ["v1", "v3"]
TEST_SET = ["clip01", "clip03"]


def test_a_test_set_of_a_larger_corpus_is_rated_without_a_folder_of_links(tmp_path, capsys):
    stim = tmp_path / "stim"
    write_stimuli(stim, 4, SYSTEMS)
    for name in SYSTEMS:  # the systems vocoded the test set only
        for clip in ("clip00", "clip02"):
            (stim / name / f"{clip}.wav").unlink()
    (stim / "reference" / "clip02.wav").write_text("not audio: a recording outside the test set is never read")
    args = ["listen", "--reference", str(stim / "reference"), *[f"--system={s}={stim / s}" for s in SYSTEMS],
            "--out", str(tmp_path / "study")]
    assert run_busy(args) == 2
    line = capsys.readouterr().err.strip()
    assert line.count("every system needs every clip (--subset rates only the stems the systems hold)") == 4, line
    folders = (stim / "reference", {s: stim / s for s in SYSTEMS})
    store = study_for(tmp_path / "study", *folders, seed=0, subset=True)
    with contextlib.closing(sqlite3.connect(store.path)) as con:
        trials = sorted(con.execute("SELECT clip, system FROM trials"))
    assert trials == sorted((c, s) for c in TEST_SET for s in [REFERENCE, *SYSTEMS])
    study_for(tmp_path / "study", *folders, seed=0, subset=True)  # continued with the same folders: the same study
    (stim / "v3" / "clip03.wav").unlink()  # one system lacks a clip another has: refused, as evaluate's --subset
    assert run_busy([*args[:-1], str(tmp_path / "other"), "--subset"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"hifigan listen: error: {stim / 'v3'}: system 'v3' has no clip 'clip03' (the reference has clip03.wav); "
        "another system has one; with --subset every system holds the same stems")
    assert not (tmp_path / "other").exists()


def test_a_study_keeps_its_subset_choice_and_says_it(tmp_path, capsys):
    """A --subset study is continued with the same folders and no --subset (the study remembers), the other choice
    is refused in one line, and the start lines say the clips' share of the recordings as evaluate does."""
    stim = tmp_path / "stim"
    write_stimuli(stim, 4, SYSTEMS)
    for name in SYSTEMS:
        for clip in ("clip00", "clip02"):
            (stim / name / f"{clip}.wav").unlink()
    folders = (stim / "reference", {s: stim / s for s in SYSTEMS})
    study = tmp_path / "study"
    store = study_for(study, *folders, seed=0, subset=True)
    assert start_lines(store) == (f"hifigan listen: 6 trials (3 systems incl. the hidden reference) from {study}\n"
                                  "clips: 2 of the 4 recordings: the stems of the systems (--subset)")
    assert study_for(study, *folders, seed=None).path == store.path  # no --subset: the study's choice
    args = ["listen", "--reference", str(stim / "reference"), *[f"--system={s}={stim / s}" for s in SYSTEMS],
            "--out", str(study)]
    assert run_busy(args) == 2  # the inputs pass: it fails only at the port in use
    assert "port already in use" in capsys.readouterr().err
    with pytest.raises(HifiganError) as refused:
        study_for(study, *folders, seed=None, subset=False)
    assert str(refused.value) == (f"{study}: holds a study of a test set (--subset), chosen when it was created; "
                                  "continue it without choosing again, or use another --out")
    every = tmp_path / "every"
    write_stimuli(stim, 4, SYSTEMS)  # every system holds every clip again
    assert start_lines(study_for(every, *folders, seed=0)) == (
        f"hifigan listen: 12 trials (3 systems incl. the hidden reference) from {every}")
    assert run_busy([*args[:-1], str(every), "--subset"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"hifigan listen: error: {every}: holds a study of every recording (without --subset), chosen when it was "
        "created; continue it without choosing again, or use another --out")
