"""Load and crash test of `hifigan listen` (a real server process on 127.0.0.1): 20 raters submit 25 ratings each
at once; the server is SIGKILLed mid-run and restarted on the same port; every rating is stored exactly once."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import zlib

from tests.support.listen_server import call, start_rater, start_server, write_stimuli

RATERS, CLIPS, SYSTEMS = 20, 5, ["s1", "s2", "s3", "s4"]  # 5 clips x (4 systems + reference) = 25 trials each
TRIALS = CLIPS * (len(SYSTEMS) + 1)
KILL_AFTER = 150  # acknowledged ratings before the SIGKILL (of 500): mid-run, all 20 raters at work


def test_twenty_raters_and_a_killed_server_lose_and_duplicate_nothing(tmp_path):
    write_stimuli(tmp_path / "stim", CLIPS, SYSTEMS, seconds=0.05)
    study = tmp_path / "study"
    args = ["--reference", tmp_path / "stim" / "reference",
            *(a for s in SYSTEMS for a in ("--system", f"{s}={tmp_path / 'stim' / s}")), "--out", study]
    server = start_server(*args)
    assert server.stimuli == "8000 Hz"
    url = server.url
    acknowledged: list[tuple[str, str, int]] = []  # (rater, trial, score) the server said it stored
    lock = threading.Lock()
    errors: list[BaseException] = []

    def rater(name: str) -> None:
        try:
            key = start_rater(url, name, retry_for=60)
            api = f"{url}api/{key}/"
            while True:
                status, nxt = call(api + "next", retry_for=60)
                assert status == 200, nxt
                if nxt["done"]:
                    return
                trial = nxt["trial"]
                assert call(api + "played", {"trial": trial}, retry_for=60)[0] == 200
                score = 1 + zlib.crc32(f"{name}/{trial}".encode()) % 5
                status, answer = call(api + "rate", {"trial": trial, "score": score}, retry_for=60)
                # "already stored": the server stored it, then died before answering; the retry finds it
                assert status == 200 and answer["outcome"] in ("stored", "already stored"), answer
                with lock:
                    acknowledged.append((name, trial, score))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=rater, args=(f"rater {i:02d}",)) for i in range(RATERS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    while len(acknowledged) < KILL_AFTER and any(t.is_alive() for t in threads) and time.monotonic() - started < 120:
        time.sleep(0.01)
    server.kill()
    with lock:
        before_kill = list(acknowledged)
    restarted = start_server("--out", study, port=server.port)  # continue the study where it stopped
    try:
        for t in threads:
            t.join(timeout=240)
        assert not errors, errors[0]
        assert not any(t.is_alive() for t in threads)
        assert KILL_AFTER <= len(before_kill) < RATERS * TRIALS, "the kill came mid-run"
        with contextlib.closing(sqlite3.connect(study / "study.sqlite")) as con:
            stored = con.execute("SELECT a.name, t.token, r.score FROM ratings r JOIN raters a ON a.id = r.rater_id "
                                 "JOIN trials t ON t.id = r.trial_id").fetchall()
            per_rater = con.execute("SELECT COUNT(*) FROM ratings GROUP BY rater_id").fetchall()
        assert len(stored) == RATERS * TRIALS and len(set(stored)) == RATERS * TRIALS
        assert sorted(stored) == sorted(acknowledged)  # each acknowledged rating, with its score, exactly once
        assert set(before_kill) <= set(stored)  # nothing acknowledged before the kill was lost
        assert per_rater == [(TRIALS,)] * RATERS
        status, report = call(restarted.results.replace("/results?", "/results.json?"))
        assert status == 200 and report["total_ratings"] == RATERS * TRIALS
        assert [s["ratings"] for s in report["systems"]] == [RATERS * CLIPS] * 5
    finally:
        restarted.stop()
