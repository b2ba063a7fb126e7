"""The listening test's rules at their edges: screening keeps a rater who rated no reference yet, the per-clip table
holds the hidden reference too, ratings come back in the order they were stored, a study continued with fewer
folders is refused, a rater's name may be 100 characters long, and one name typed with its accents precomposed or
combining is one rater."""

from __future__ import annotations

import pytest

from hifigan.errors import HifiganError
from hifigan.evaluation.listening.mos import mos_report
from hifigan.evaluation.listening.study import REFERENCE, study_for
from tests.support.listen_server import write_stimuli


def test_screening_keeps_raters_without_a_reference_rating_and_clips_hold_the_reference():
    ratings = [("a", REFERENCE, "c1", 2), ("a", "v1", "c1", 3), ("b", "v1", "c1", 5), ("b", "v1", "c2", 4),
               ("c", REFERENCE, "c1", 5), ("c", REFERENCE, "c2", 4), ("c", "v1", "c2", 2)]
    report = mos_report(ratings, [REFERENCE, "v1"], screen_reference_below=3)
    assert {r.rater: (r.reference_mean, r.excluded) for r in report.raters} == {
        "a": (2.0, True), "b": (None, False), "c": (4.5, False)}
    assert report.notes[-1] == "not screened (rated no reference clip yet): b"
    assert report.systems[1].mos == pytest.approx((5 + 4 + 2) / 3, abs=1e-12)
    assert {clip: {s: (m.mos, m.ratings) for s, m in per.items()} for clip, per in report.clips.items()} == {
        "c1": {REFERENCE: (5.0, 1), "v1": (5.0, 1)}, "c2": {REFERENCE: (4.0, 1), "v1": (3.0, 2)}}


@pytest.fixture
def stim(tmp_path):
    write_stimuli(tmp_path / "stim", 2, ["v1", "v3"], seconds=0.05)
    return tmp_path / "stim"


def test_ratings_come_back_in_the_order_they_were_stored(tmp_path, stim):
    import contextlib
    import sqlite3

    store = study_for(tmp_path / "study", stim / "reference", {"v1": stim / "v1"}, seed=0)
    with contextlib.closing(sqlite3.connect(store.path)) as con:
        trials = con.execute("SELECT token, system, clip FROM trials ORDER BY id DESC").fetchall()
    rater = store.rater("Ada")
    for score, (token, _, _) in enumerate(trials, 1):  # the last trial first
        assert store.record_play(rater, token)
        assert store.record_rating(rater, token, score).value == "stored"
    assert store.ratings() == [("Ada", system, clip, score) for score, (_, system, clip) in enumerate(trials, 1)]


def test_a_study_continued_with_fewer_systems_is_refused(tmp_path, stim):
    study_for(tmp_path / "study", stim / "reference", {"v1": stim / "v1", "v3": stim / "v3"}, seed=0)
    with pytest.raises(HifiganError, match=r"holds a study of other audio \(system 'v3' is missing \(2 stimuli\)\);"):
        study_for(tmp_path / "study", stim / "reference", {"v1": stim / "v1"}, seed=0)


def test_missing_new_and_changed_stimuli_are_told_apart(tmp_path, stim):
    study_for(tmp_path / "study", stim / "reference", {"v1": stim / "v1", "v3": stim / "v3"}, seed=0)
    write_stimuli(tmp_path / "more", 2, ["v5"], seconds=0.05)
    (stim / "v1" / "clip01.wav").write_bytes((stim / "v3" / "clip01.wav").read_bytes())
    with pytest.raises(HifiganError) as e:
        study_for(tmp_path / "study", stim / "reference", {"v1": stim / "v1", "v5": tmp_path / "more" / "v5"}, seed=0)
    assert ("(system 'v3' is missing (2 stimuli); system 'v5' is not in the study (2 stimuli); "
            "1 stimulus differs, e.g. clip01/v1)") in str(e.value)


def test_a_name_of_100_characters_is_taken_and_one_of_101_is_not(tmp_path, stim):
    from hifigan.evaluation.listening.app import create_app

    client = create_app(study_for(tmp_path / "study", stim / "reference", {"v1": stim / "v1"}, seed=0)).test_client()
    assert client.post("/start", data={"name": "x" * 100}).status_code == 303
    assert client.post("/start", data={"name": "  " + "y" * 100 + "  "}).status_code == 303  # spaces are not counted
    assert client.post("/start", data={"name": "x" * 101}).status_code == 400


def test_the_start_page_the_api_root_an_unknown_trial_and_the_json_results(tmp_path, stim):
    """The start page asks for a name; the API root of a rater links their next trial and, like every /api/<key>/
    route, is a JSON 404 for a key no rater has; a play of a trial not in the rater's order is a JSON 404; the JSON
    results need the admin key."""
    from hifigan.evaluation.listening.app import create_app

    store = study_for(tmp_path / "study", stim / "reference", {"v1": stim / "v1"}, seed=0)
    client = create_app(store).test_client()
    start = client.get("/")
    assert start.status_code == 200 and '<input type="text" name="name"' in start.get_data(as_text=True)
    assert "You will hear 4 short recordings" in start.get_data(as_text=True)
    key = client.post("/start", data={"name": "Ada"}).headers["Location"].rsplit("/", 1)[1]
    assert client.get(f"/api/{key}/").get_json() == {"next": f"/api/{key}/next"}
    missing = client.get("/api/not-a-key/")
    assert (missing.status_code, missing.get_json()) == (
        404, {"error": "no rater with this link; start again from the start page"})
    played = client.post(f"/api/{key}/played", json={"trial": "not-a-trial"})
    assert (played.status_code, played.get_json()) == (404, {"error": "no such trial for this rater"})
    assert client.get(f"/api/{key}/next").get_json()["played"] is False  # nothing recorded
    for query in ("", "?key=wrong"):
        assert client.get(f"/results.json{query}").status_code == 403
    results = client.get(f"/results.json?key={store.meta('admin_key')}").get_json()
    assert [(s["system"], s["ratings"]) for s in results["systems"]] == [("reference", 0), ("v1", 0)]


def test_a_name_typed_with_a_combining_accent_is_the_same_rater_stored_precomposed(tmp_path, stim):
    """"José" as e + U+0301 and as the precomposed é (and in other case and spacing) is one rater, stored in NFC;
    the 100-character limit counts the normalised letters."""
    from hifigan.evaluation.listening.app import create_app

    store = study_for(tmp_path / "study", stim / "reference", {"v1": stim / "v1"}, seed=0)
    client = create_app(store).test_client()
    locations = {client.post("/start", data={"name": name}).headers["Location"]
                 for name in ("Jos\u00e9 Garc\u00eda", "Jose\u0301 Garci\u0301a", "  JOSE\u0301\u00a0garc\u00eda ")}
    assert len(locations) == 1
    rater = store.rater_by_key(locations.pop().rsplit("/", 1)[1])
    assert rater.name == "Jos\u00e9 Garc\u00eda"
    assert client.post("/start", data={"name": "e\u0301" * 100}).status_code == 303


def test_a_rater_stored_before_names_were_normalised_is_found_by_either_spelling(tmp_path, stim):
    import contextlib
    import sqlite3

    store = study_for(tmp_path / "study", stim / "reference", {"v1": stim / "v1"}, seed=0)
    old = store.rater("Ada")
    with contextlib.closing(sqlite3.connect(store.path)) as con, con:  # as the old rule stored a decomposed name
        con.execute("UPDATE raters SET name = ?, name_key = ? WHERE id = ?", ("Jose\u0301", "jose\u0301", old.id))
    assert store.rater("Jos\u00e9").id == store.rater("jose\u0301").id == old.id
