"""`hifigan listen`: the study, the rating rules (blind, seeded order, play first, once), resume and the MOS report
(its statistics: test_listening_mos.py; one-line errors for bad input: test_listening_errors.py). The app runs for
real under Flask's test client."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import urllib.request

import numpy as np
import pytest

from hifigan.cli import main
from hifigan.evaluation.listening.app import create_app
from hifigan.evaluation.listening.store import rater_order
from hifigan.evaluation.listening.study import REFERENCE, open_study, study_for
from tests.support.listen_server import SRC, create_study, run_busy, write_stimuli

SYSTEMS = ["v1", "v3"]


@pytest.fixture
def study(tmp_path, capsys):
    write_stimuli(tmp_path / "stim", 3, SYSTEMS)
    args = ["listen", "--reference", str(tmp_path / "stim" / "reference"),
            *(a for s in SYSTEMS for a in ("--system", f"{s}={tmp_path / 'stim' / s}")),
            "--out", str(tmp_path / "study")]
    assert run_busy(args) == 2  # the inputs pass, the port is used: one line, and no study is left
    assert "port already in use" in capsys.readouterr().err and not (tmp_path / "study").exists()
    created = create_study(tmp_path, SYSTEMS)
    assert create_study(tmp_path, SYSTEMS).path == created.path  # the same folders again: the same study, continued
    return open_study(tmp_path / "study")


@pytest.fixture
def client(study):
    return create_app(study).test_client()


def begin(client, name: str) -> str:
    response = client.post("/start", data={"name": name})
    assert response.status_code == 303
    return response.headers["Location"].rsplit("/", 1)[1]


def test_study_holds_every_clip_of_every_system_blind(study, tmp_path):
    with contextlib.closing(sqlite3.connect(study.path)) as con:
        rows = con.execute("SELECT token, clip, system, source FROM trials").fetchall()
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert sorted((c, s) for _, c, s, _ in rows) == sorted(
        (f"clip{i:02d}", s) for i in range(3) for s in [REFERENCE, *SYSTEMS])
    for token, clip, system, source in rows:  # one format and length here already: copied byte for byte
        original = tmp_path / "stim" / system / f"{clip}.wav"
        assert (tmp_path / "study" / "audio" / f"{token}.wav").read_bytes() == original.read_bytes()
        assert source == str(original.resolve())
        assert clip not in token and system not in token
    assert study.systems() == [REFERENCE, *SYSTEMS]


def test_rating_rules(client, study):
    key = begin(client, "Ada")
    page = client.get(f"/rate/{key}").get_data(as_text=True).replace(key, "")
    trial = client.get(f"/api/{key}/next").get_json()
    assert trial["position"] == 0 and trial["total"] == 9 and not trial["played"]
    assert trial["trial"] in page and "v1" not in page and "clip0" not in page and "reference" not in page
    rate = f"/api/{key}/rate"
    assert client.post(rate, json={"trial": trial["trial"], "score": 4}).status_code == 409  # not played yet
    assert study.ratings() == []
    assert client.post(f"/api/{key}/played", json={"trial": trial["trial"]}).status_code == 200
    for bad in (0, 6, "4", True, None, 4.0):
        assert client.post(rate, json={"trial": trial["trial"], "score": bad}).status_code == 400, bad
    assert client.post(rate, json={"trial": "nonexistent", "score": 4}).status_code == 404
    assert client.post(rate, json={"trial": trial["trial"], "score": 4}).get_json() == {"outcome": "stored"}
    assert client.post(rate, json={"trial": trial["trial"], "score": 4}).get_json() == {"outcome": "already stored"}
    assert client.post(rate, json={"trial": trial["trial"], "score": 2}).status_code == 409
    assert len(study.ratings()) == 1 and study.ratings()[0][0] == "Ada" and study.ratings()[0][3] == 4
    assert client.get(f"/api/{key}/next").get_json()["position"] == 1
    assert client.get("/rate/not-a-key").status_code == 404
    other = begin(client, "Grace")  # a trial of Ada's order exists for Grace too, but Grace has not played it
    assert client.post(f"/api/{other}/rate", json={"trial": trial["trial"], "score": 4}).status_code == 409


def test_orders_are_seeded_per_rater_and_resume_where_they_stopped(client, study):
    ids = list(range(1, 51))
    order = rater_order("0", "Ada", ids)
    assert sorted(order) == ids and order != ids
    assert rater_order("0", " ada ", ids) == order and rater_order("1", "Ada", ids) != order
    assert rater_order("0", "Grace", ids) != order
    key = begin(client, "Ada")
    seen = []
    for _ in range(4):
        trial = client.get(f"/api/{key}/next").get_json()["trial"]
        client.post(f"/api/{key}/played", json={"trial": trial})
        client.post(f"/api/{key}/rate", json={"trial": trial, "score": 3})
        seen.append(trial)
    assert begin(client, "  ADA ") == key  # the same rater, whatever the case and spacing
    nxt = client.get(f"/api/{key}/next").get_json()
    assert nxt["position"] == 4 and nxt["trial"] not in seen
    with contextlib.closing(sqlite3.connect(study.path)) as con:
        tokens = dict(con.execute("SELECT id, token FROM trials"))
        stored = [tokens[t] for (t,) in con.execute(
            "SELECT trial_id FROM schedule WHERE rater_id = 1 ORDER BY position")]
    assert stored == [tokens[i] for i in rater_order("0", "Ada", sorted(tokens))]
    assert stored[:5] == [*seen, nxt["trial"]]
    for trial in stored[4:]:
        client.post(f"/api/{key}/played", json={"trial": trial})
        client.post(f"/api/{key}/rate", json={"trial": trial, "score": 5})
    assert "Thank you, Ada" in client.get(f"/rate/{key}").get_data(as_text=True)
    assert client.get(f"/api/{key}/next").get_json() == {"done": True}


def test_audio_is_served_with_ranges(client, study, tmp_path):
    key = begin(client, "Ada")
    token = client.get(f"/api/{key}/next").get_json()["trial"]
    whole = (tmp_path / "study" / "audio" / f"{token}.wav").read_bytes()
    response = client.get(f"/audio/{token}")
    assert response.status_code == 200 and response.mimetype == "audio/wav" and response.data == whole
    part = client.get(f"/audio/{token}", headers={"Range": "bytes=10-99"})
    assert part.status_code == 206 and part.data == whole[10:100]
    assert client.get("/audio/unknown").status_code == 404


def test_results_need_the_admin_key(client, study):
    assert client.get("/results").status_code == 403
    assert client.get("/results?key=wrong").status_code == 403
    page = client.get(f"/results?key={study.meta('admin_key')}").get_data(as_text=True)
    assert "Ground Truth (hidden reference)" in page and "v3" in page


def test_a_study_at_any_rate_plays_every_version_at_the_references(tmp_path, capsys):
    """48 kHz recordings (FLAC for one system, re-wrapped as WAV with the same samples and rate) and a system at
    22050 Hz: a rate in the header would tell that system, so its copies are resampled to the reference's 48 kHz
    (soxr HQ) and cut to the shortest version's duration; the others keep their samples exactly."""
    import soundfile as sf

    from hifigan.audio import resample_audio
    from hifigan.evaluation.listening.study import rates_text, stimulus_rates

    stim = tmp_path / "stim"
    write_stimuli(stim, 2, ["v1"], rate=48000)
    write_stimuli(stim / "v3-flac", 2, [], rate=48000)
    for wav in sorted((stim / "v3-flac" / "reference").iterdir()):
        sf.write(stim / "v3-flac" / wav.with_suffix(".flac").name, sf.read(wav, dtype="int16")[0], 48000)
    shutil.rmtree(stim / "v3-flac" / "reference")
    write_stimuli(stim / "lj", 2, [], rate=22050)
    study = study_for(tmp_path / "study", stim / "reference",
                      {"v1": stim / "v1", "v3": stim / "v3-flac", "lj": stim / "lj" / "reference"}, seed=0)
    assert stimulus_rates(study) == {REFERENCE: [48000], "v1": [48000], "v3": [48000], "lj": [48000]}
    assert rates_text(stimulus_rates(study)) == "48000 Hz"
    with contextlib.closing(sqlite3.connect(study.path)) as con:
        for token, system, source in con.execute("SELECT token, system, source FROM trials"):
            copy, original = sf.read(study.audio_file(token), dtype="int16"), sf.read(source, dtype="int16")
            # every version lasts as long as the shortest, lj's 5512 frames at 22050 Hz: 11998 frames at 48 kHz
            assert copy[1] == 48000 and len(copy[0]) == 11998
            if system != "lj":
                assert (copy[0] == original[0][:len(copy[0])]).all()
            else:  # soxr's samples, written as 16-bit
                x = sf.read(source, dtype="float32")[0]
                want = np.clip(np.round(resample_audio(x, 22050, 48000)[:11998] * 32768), -32768, 32767)
                assert np.abs(copy[0].astype(np.int32) - want.astype(np.int32)).max() <= 1
    assert rates_text({"reference": [16000], "v1": [22050]}) == ("several rates: reference 16000 Hz, v1 22050 Hz "
                                                                 "(each file is played at its own rate)")
    assert rates_text({"reference": [16000], "v1": [16000]}) == "16000 Hz"


def test_report_command_writes_markdown_and_json(client, study, tmp_path, capsys):
    key = begin(client, "Ada")
    for score in (5, 4):
        trial = client.get(f"/api/{key}/next").get_json()["trial"]
        client.post(f"/api/{key}/played", json={"trial": trial})
        client.post(f"/api/{key}/rate", json={"trial": trial, "score": score})
    assert main(["listen", "--report", str(tmp_path / "study")]) == 0
    out = capsys.readouterr().out
    assert "| Model | MOS (95% CI) | ratings | raters | clips |" in out
    data = json.loads((tmp_path / "study" / "mos.json").read_text())
    assert sum(s["ratings"] for s in data["systems"]) == 2 and data["raters"][0]["rater"] == "Ada"
    assert (tmp_path / "study" / "mos.md").read_text().startswith("# MOS")


def test_audio_headers_do_not_tell_the_systems_apart(client, study):
    """The copies are written clip by clip in the systems' order (the reference first): an ETag or Last-Modified
    made of each file's mtime would let a rater sort them in the developer tools and unblind every trial. Every
    version of a clip is answered with the same headers, but for its own random token."""
    with contextlib.closing(sqlite3.connect(study.path)) as con:
        rows = con.execute("SELECT token, clip FROM trials ORDER BY id").fetchall()
    headers: dict[str, set] = {}
    for token, clip in rows:
        response = client.get(f"/audio/{token}")
        assert response.status_code == 200
        assert response.headers["ETag"] == f'"{token}"'  # revalidation still works, with nothing but the token
        assert client.get(f"/audio/{token}", headers={"If-None-Match": f'"{token}"'}).status_code == 304
        kept = tuple(sorted((k, v.replace(token, "TOKEN")) for k, v in response.headers.items()
                            if k not in ("Date", "Expires")))  # the request's clock (now + max-age), not the file's
        headers.setdefault(clip, set()).add(kept)
    assert len(headers) == 3 and all(len(seen) == 1 for seen in headers.values()), headers


def test_listening_on_every_interface_prints_urls_a_browser_opens(study):
    """--host 0.0.0.0: the raters' and results' URLs name 127.0.0.1 (a browser cannot open 0.0.0.0, which they named
    before), and a line says the server listens on every interface."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-m", "hifigan", "listen", "--out", str(study.path.parent), "--host",
                             "0.0.0.0", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env)
    watchdog = threading.Timer(60, proc.kill)
    watchdog.start()
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("(Ctrl-C"):
                break
        raters = next(line.removeprefix("raters: ") for line in lines if line.startswith("raters: "))
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", raters), lines
        assert next(line for line in lines if line.startswith("results: ")).startswith(f"results: {raters}results?")
        assert lines[-2:] == [
            "(listening on every interface, --host 0.0.0.0: from other machines, this machine's name or address in its "
            "place)", "(Ctrl-C stops the server; every rating is already saved)"]
        with urllib.request.urlopen(raters, timeout=30) as page:
            assert page.status == 200
    finally:
        watchdog.cancel()
        proc.terminate()
        proc.wait(30)
