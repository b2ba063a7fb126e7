"""In a real browser (headless Chromium): the evaluation page opens from the file system and plays, and a rater
takes the whole listening test (play, rate, reload, stop and resume, a server killed mid-test), whose rows and
MOS report are then checked. Skipped with the reason where there is no browser, failed instead where
HIFIGAN_REQUIRE_BROWSER is set (CI)."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3

import pytest

from hifigan.audio import save_audio
from hifigan.cli import main
from tests.support.browser import chrome, find_browser, wait_for
from tests.support.listen_server import start_server, write_stimuli
from tests.support.signals import SR, speechlike, with_noise_at_snr

RECORD_VIOLATIONS = ("window.violations = []; document.addEventListener('securitypolicyviolation', "
                     "e => window.violations.push(e.blockedURI + ' ' + e.violatedDirective));")


@pytest.fixture(scope="module")
def driver():
    found = find_browser()
    if isinstance(found, str):
        if os.environ.get("HIFIGAN_REQUIRE_BROWSER"):
            pytest.fail(f"HIFIGAN_REQUIRE_BROWSER is set but {found}")
        pytest.skip(found)
    session = chrome(*found)
    session.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})
    yield session
    session.quit()


def test_evaluation_page_opens_from_the_file_system_and_plays(driver, tmp_path, capsys):
    for name in ("ref", "gen"):
        (tmp_path / name).mkdir()
    for i, stem in enumerate(["a", "b"]):
        x = speechlike(0.6, seed=i)
        save_audio(tmp_path / "ref" / f"{stem}.wav", x, SR)
        save_audio(tmp_path / "gen" / f"{stem}.wav", with_noise_at_snr(x, 20.0, seed=i), SR)
    assert main(["evaluate", "--reference", str(tmp_path / "ref"), "--system", f"v1={tmp_path / 'gen'}",
                 "--out", f"{tmp_path / 'rep'}/", "--html", "--metrics", "mel_l1,snr"]) == 0, capsys.readouterr()
    driver.get((tmp_path / "rep" / "evaluation.html").as_uri())
    assert driver.title.startswith("hifigan evaluation")
    summary = driver.execute_script("return [...document.querySelectorAll('#summary tr')].map(r => r.innerText)")
    assert len(summary) == 3 and summary[1].startswith("mel L1")
    cards = driver.execute_script(
        "return [...document.querySelectorAll('.card')].map(c => c.dataset.system + '/' + c.closest('section').id)")
    assert sorted(cards) == sorted(f"{s}/clip-{c}" for s in ("reference", "v1") for c in "ab")
    images = driver.execute_script("return [...document.images].map(i => [i.complete, i.naturalHeight])")
    assert images == [[True, 80]] * 4  # every mel image decoded: 80 mel bins high
    durations = wait_for(lambda: driver.execute_script(
        "const d = [...document.querySelectorAll('audio')].map(a => a.duration);"
        "return d.every(x => x > 0) && d"), what="audio metadata")
    assert durations == pytest.approx([0.6] * 4, abs=0.01)
    played = driver.execute_async_script(
        "const done = arguments[arguments.length - 1], audio = document.querySelectorAll('audio')[3];"
        "audio.addEventListener('ended', () => done(audio.currentTime));"
        "audio.addEventListener('error', () => done('error ' + audio.error.message));"
        "audio.play().catch(e => done('play failed: ' + e));")
    assert played == pytest.approx(0.6, abs=0.01)  # the last player played its clip to the end
    assert driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)") == []
    assert driver.execute_script("return window.violations") == []


def play_and_wait(driver) -> None:
    """Click Play on the rating page and wait until the scores open (the clip ended and the server knows)."""
    driver.find_element("id", "play").click()
    wait_for(lambda: driver.find_element("id", "scores").get_attribute("disabled") is None, what="scores enabled")


def rate(driver, score: int, then: str) -> None:
    driver.find_element("css selector", f"input[name=score][value='{score}']").find_element("xpath", "..").click()
    assert driver.find_element("id", "submit").is_enabled()
    driver.find_element("id", "submit").click()
    wait_for(lambda: then in text(driver), what=then)


def text(driver, selector: str = "body") -> str:
    """The text of the first element matching `selector` (read in one script: the page may be reloading)."""
    return driver.execute_script("const e = document.querySelector(arguments[0]); return e ? e.innerText : ''",
                                 selector)


def progress(driver) -> str:
    return text(driver, "p.meta")


def test_a_rater_takes_the_listening_test(driver, tmp_path, capsys):
    write_stimuli(tmp_path / "stim", 2, ["v1", "v3"], seconds=0.1)
    study = tmp_path / "study"
    server = start_server("--reference", tmp_path / "stim" / "reference", "--system", f"v1={tmp_path / 'stim/v1'}",
                          "--system", f"v3={tmp_path / 'stim/v3'}", "--out", study)
    try:
        driver.get(server.url)
        driver.find_element("id", "name").send_keys("Ada")
        driver.find_element("id", "begin").click()
        wait_for(lambda: progress(driver) == "Clip 1 of 6 · Ada", what="the first trial")
        assert driver.find_element("id", "scores").get_attribute("disabled") is not None  # must play first
        assert not driver.find_element("id", "submit").is_enabled()
        play_and_wait(driver)
        rate(driver, 4, "Clip 2 of 6")

        play_and_wait(driver)
        driver.refresh()  # reloaded after playing: the same clip, still open for rating
        wait_for(lambda: progress(driver) == "Clip 2 of 6 · Ada", what="the same trial after a reload")
        assert driver.find_element("id", "scores").get_attribute("disabled") is None
        rate(driver, 3, "Clip 3 of 6")

        driver.get(server.url)  # stop and come back: the same name continues where it stopped
        driver.find_element("id", "name").send_keys("  ada ")
        driver.find_element("id", "begin").click()
        wait_for(lambda: progress(driver) == "Clip 3 of 6 · Ada", what="resume at clip 3")
        play_and_wait(driver)
        rate(driver, 5, "Clip 4 of 6")

        play_and_wait(driver)  # the server dies before the rating is sent; the page retries until it is back
        server.kill()
        rate(driver, 2, "did not answer")
        server = start_server("--out", study, port=server.port)
        wait_for(lambda: progress(driver) == "Clip 5 of 6 · Ada", what="the rating stored after the restart")

        for score, then in ((1, "Clip 6 of 6"), (5, "Thank you, Ada")):
            play_and_wait(driver)
            rate(driver, score, then)

        with contextlib.closing(sqlite3.connect(study / "study.sqlite")) as con:
            rows = con.execute("SELECT s.position, t.system, r.score FROM ratings r JOIN schedule s ON "
                               "s.rater_id = r.rater_id AND s.trial_id = r.trial_id JOIN trials t ON "
                               "t.id = r.trial_id ORDER BY r.id").fetchall()
        assert [(p, s) for p, _, s in rows] == list(enumerate([4, 3, 5, 2, 1, 5]))
        mos = {}
        for _, system, score in rows:
            mos.setdefault(system, []).append(score)

        assert main(["listen", "--report", str(study)]) == 0
        report = json.loads((study / "mos.json").read_text())
        assert {s["system"]: (s["ratings"], s["mos"]) for s in report["systems"]} == {
            system: (2, pytest.approx(sum(v) / 2, abs=1e-12)) for system, v in mos.items()}
        assert "| Ground Truth (hidden reference) |" in capsys.readouterr().out

        driver.get(server.results)
        table = driver.find_element("id", "mos").text
        assert "Ground Truth (hidden reference)" in table and "v1" in table and "v3" in table
        assert driver.find_element("id", "raters").text.splitlines()[1].startswith("Ada 6 / 6")
    finally:
        server.stop()
