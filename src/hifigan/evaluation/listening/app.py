"""The listening test as a Flask app: a start page, one page per trial, a small JSON API, the audio, the results.

Routes:
  GET  /                      start page (name form)            POST /start          name -> the rater's page
  GET  /rate/<key>            the rater's next trial (or thanks)  GET  /audio/<token>  a stimulus (WAV)
  GET  /api/<key>/next        the next trial as JSON               POST /api/<key>/played  {"trial"}: heard to the end
  POST /api/<key>/rate        {"trial", "score"}: store a rating   GET  /results?key=ADMIN (and /results.json)
The rater's key and the trial tokens are random: a page never shows which system a clip comes from.
"""

from __future__ import annotations

import hmac

import jinja2

from hifigan.evaluation.listening.mos import label, mos_cell, mos_report
from hifigan.evaluation.listening.pages import CSS, TEMPLATES
from hifigan.evaluation.listening.store import Outcome, Rater, Store, clean_name
from hifigan.evaluation.listening.study import SCALE
from hifigan.runtime.extras import optional_import

optional_import("flask", "hifigan listen's web app")  # not installed: one line naming the 'listen' extra
from flask import Flask, abort, jsonify, redirect, render_template, request, send_file, url_for  # noqa: E402

MAX_NAME = 100
STATUS = {Outcome.STORED: 200, Outcome.ALREADY_STORED: 200, Outcome.CONFLICT: 409, Outcome.NOT_PLAYED: 409,
          Outcome.UNKNOWN_TRIAL: 404}


def create_app(store: Store, screen_reference_below: float | None = None) -> Flask:
    """The app serving one study."""
    app = Flask("hifigan.evaluation.listening")
    app.jinja_loader = jinja2.DictLoader(TEMPLATES)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    total = store.trial_count()
    admin_key = store.meta("admin_key")
    created = float(store.meta("created"))  # every copy's Last-Modified (see `audio`)
    scale = sorted(SCALE.items(), reverse=True)

    @app.context_processor
    def _globals() -> dict:
        return {"css": CSS, "scale": scale, "total": total}

    def rater_or_404(key: str) -> Rater:
        rater = store.rater_by_key(key)
        if rater is None:
            abort(404, "no rater with this link; start again from the start page")
        return rater

    @app.get("/")
    def index():
        return render_template("index.html", error=None)

    @app.post("/start")
    def start():
        name = clean_name(request.form.get("name", ""))
        if not name or len(name) > MAX_NAME:
            return render_template("index.html", error=f"Please enter a name (1 to {MAX_NAME} characters)."), 400
        return redirect(url_for("rate", key=store.rater(name).key), code=303)

    @app.get("/rate/<key>")
    def rate(key: str):
        rater = rater_or_404(key)
        trial = store.next_trial(rater)
        if trial is None:
            return render_template("done.html", rater=rater)
        return render_template("rate.html", rater=rater, trial=trial, done=store.rated_count(rater),
                               api=url_for("api_root", key=key))

    @app.get("/api/<key>/")
    def api_root(key: str):
        return jsonify({"next": url_for("api_next", key=rater_or_404(key).key)})

    @app.get("/api/<key>/next")
    def api_next(key: str):
        trial = store.next_trial(rater_or_404(key))
        if trial is None:
            return jsonify({"done": True})
        return jsonify({"done": False, "trial": trial.token, "position": trial.position, "total": trial.total,
                        "played": trial.played, "audio": url_for("audio", token=trial.token)})

    @app.post("/api/<key>/played")
    def api_played(key: str):
        token = _json_field("trial", str)
        if not store.record_play(rater_or_404(key), token):
            return jsonify({"error": Outcome.UNKNOWN_TRIAL.value}), 404
        return jsonify({"played": True})

    @app.post("/api/<key>/rate")
    def api_rate(key: str):
        rater = rater_or_404(key)
        token, score = _json_field("trial", str), _json_field("score", int)
        if score not in SCALE:
            return jsonify({"error": "score must be an integer from 1 to 5"}), 400
        outcome = store.record_rating(rater, token, score)
        if STATUS[outcome] != 200:
            return jsonify({"error": outcome.value}), STATUS[outcome]
        return jsonify({"outcome": outcome.value})

    @app.get("/audio/<token>")
    def audio(token: str):
        path = store.audio_file(token)
        if path is None or not path.is_file():
            abort(404)
        # The copies were written clip by clip in the systems' order: an ETag or Last-Modified made of each file's
        # mtime (send_file's default) would sort them into systems in the developer tools. The token and the
        # study's creation time tell nothing.
        return send_file(path, mimetype="audio/wav", conditional=True, etag=token, last_modified=created,
                         max_age=3600)

    def check_admin() -> None:
        if not hmac.compare_digest(request.args.get("key", ""), admin_key):
            abort(403, "the results need the key printed when the server started (?key=...)")

    @app.get("/results")
    def results():
        check_admin()
        report = mos_report(store.ratings(), store.systems(), screen_reference_below)
        return render_template("results.html", report=report, key=admin_key, label=label, mos_cell=mos_cell,
                               num=lambda v: "–" if v is None else f"{v:.2f}")

    @app.get("/results.json")
    def results_json():
        check_admin()
        return jsonify(mos_report(store.ratings(), store.systems(), screen_reference_below).to_dict())

    @app.errorhandler(400)
    @app.errorhandler(403)
    @app.errorhandler(404)
    @app.errorhandler(405)
    @app.errorhandler(413)
    def error(e):
        if request.path.startswith("/api/"):
            return jsonify({"error": e.description}), e.code
        return render_template("message.html", heading=e.name, message=e.description), e.code

    return app


def _json_field(name: str, kind: type):
    """A field of the JSON body, of the given type (400 otherwise)."""
    body = request.get_json(silent=True)
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        abort(400, f"the JSON body needs {name!r} ({kind.__name__})")
    return value

