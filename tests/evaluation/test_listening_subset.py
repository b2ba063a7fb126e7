"""`hifigan listen --subset`: a study of a test set drawn from a larger corpus. Only the recordings of the stems the
systems hold are rated (the others are not even read), every system must hold the same stems, and without --subset
the refusal of a recording with no system file says that --subset would take the test set."""

from __future__ import annotations

import contextlib
import sqlite3

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
