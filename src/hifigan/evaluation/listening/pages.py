"""The listening test's pages (Jinja, autoescaped; inline CSS and script; nothing fetched from elsewhere)."""

from __future__ import annotations

CSS = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f; background: #f4f5f7;
       margin: 0; padding: 2em 1em; }
main { max-width: 680px; margin: 0 auto; background: #fff; border-radius: 12px; padding: 1.6em 2em 2em;
       box-shadow: 0 1px 4px rgba(0,0,0,.08); }
main.wide { max-width: 1000px; }
h1 { font-size: 1.5em; margin: 0 0 .5em; }
h2 { font-size: 1.2em; margin: 1.2em 0 .5em; }
.meta { color: #666; font-size: .92em; margin: .2em 0 1em; }
.scale { margin: .5em 0 1em 1.2em; padding: 0; }
input[type=text] { font: inherit; padding: .45em .6em; border: 1px solid #bbb; border-radius: 6px; width: 16em; }
button { font: inherit; padding: .55em 1.2em; border-radius: 6px; border: 1px solid #2b59c3; background: #2b59c3;
         color: #fff; cursor: pointer; }
button:disabled { background: #c9cfdb; border-color: #c9cfdb; cursor: default; }
button.secondary { background: #fff; color: #2b59c3; }
.progress { height: 6px; background: #e6e8ee; border-radius: 3px; overflow: hidden; }
.progress div { height: 100%; background: #2b59c3; }
fieldset { border: 0; margin: 1em 0; padding: 0; display: flex; gap: .5em; flex-wrap: wrap; }
fieldset:disabled { opacity: .45; }
label.score { flex: 1 1 0; min-width: 6.5em; border: 1px solid #ccd; border-radius: 8px; padding: .6em .4em;
              text-align: center; cursor: pointer; user-select: none; }
label.score b { display: block; font-size: 1.4em; }
label.score:has(input:checked) { border-color: #2b59c3; background: #eaf0ff; }
label.score input { display: none; }
.status { color: #555; margin-left: .8em; }
.error { color: #b00020; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { padding: .3em .8em; border: 1px solid #e0e0e0; text-align: right; }
th { background: #f0f0f3; }
td:first-child, th:first-child { text-align: left; }
"""

BASE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}Listening test{% endblock %}</title><style>{{ css|safe }}</style></head>
<body>{% block body %}{% endblock %}</body></html>"""

INDEX = """{% extends "base.html" %}{% block body %}<main>
<h1>Listening test</h1>
<p>You will hear {{ total }} short recordings of speech, one at a time, in an order of your own. Please use
headphones in a quiet place. Listen to each recording to the end, then rate <b>how natural it sounds</b>:</p>
<ul class="scale">{% for score, text in scale %}<li><b>{{ score }}</b> {{ text }}</li>{% endfor %}</ul>
<p>You can stop at any time and come back later: enter the same name to continue where you left off.</p>
<form method="post" action="{{ url_for('start') }}">
<label>Your name <input type="text" name="name" id="name" required maxlength="100" autofocus></label>
<button type="submit" id="begin">Begin</button>
</form>
{% if error %}<p class="error">{{ error }}</p>{% endif %}
</main>{% endblock %}"""

RATE = """{% extends "base.html" %}{% block title %}Clip {{ trial.position + 1 }} of {{ trial.total }}{% endblock %}
{% block body %}<main>
<div class="progress"><div style="width: {{ (100 * done / trial.total)|round(1) }}%"></div></div>
<p class="meta">Clip {{ trial.position + 1 }} of {{ trial.total }} · {{ rater.name }}</p>
<h1>How natural does this speech sound?</h1>
<audio id="stimulus" preload="auto" src="{{ url_for('audio', token=trial.token) }}"></audio>
<p><button type="button" id="play">▶ Play</button><span class="status" id="status">Listen to the whole clip, then
rate it.</span></p>
<form id="rate">
<fieldset id="scores" disabled>{% for score, text in scale %}
<label class="score"><input type="radio" name="score" value="{{ score }}"><b>{{ score }}</b>{{ text }}</label>
{% endfor %}</fieldset>
<button type="submit" id="submit" disabled>Submit and continue</button>
</form>
<p class="error" id="error" hidden></p>
</main>
<script>
const trial = {{ trial.token|tojson }}, api = {{ api|tojson }};
const audio = document.getElementById("stimulus"), play = document.getElementById("play"),
  scores = document.getElementById("scores"), submit = document.getElementById("submit"),
  status = document.getElementById("status"), error = document.getElementById("error"),
  form = document.getElementById("rate");
function update() { submit.disabled = scores.disabled || !form.querySelector("input[name=score]:checked"); }
function enable() { scores.disabled = false; status.textContent = "Choose a score (you may listen again)."; update(); }
function fail(message) { error.hidden = false; error.textContent = message; }
async function post(what, body) {  // retried while the server does not answer (it may be restarting)
  for (let wait = 500; ; wait = Math.min(2 * wait, 4000)) {
    try {
      const r = await fetch(api + what, {method: "POST", headers: {"Content-Type": "application/json"},
                                         body: JSON.stringify(body)});
      if (r.status < 500) { error.hidden = true; return [r.ok, await r.json()]; }
    } catch (e) { /* no answer: retry */ }
    fail("The server did not answer; trying again…");
    await new Promise(done => setTimeout(done, wait));
  }
}
play.addEventListener("click", () => { audio.currentTime = 0; audio.play(); play.textContent = "▶ Playing…"; });
audio.addEventListener("ended", async () => {
  play.textContent = "↻ Play again";
  if (!scores.disabled) return;
  const [ok, answer] = await post("played", {trial});
  if (ok) enable(); else fail(answer.error);
});
audio.addEventListener("error", () => fail("This clip could not be loaded; please reload the page."));
form.addEventListener("change", update);
form.addEventListener("submit", async event => {
  event.preventDefault();
  submit.disabled = true;
  const score = Number(form.querySelector("input[name=score]:checked").value);
  const [ok, answer] = await post("rate", {trial, score});
  if (ok) location.replace(location.href); else { fail(answer.error); update(); }
});
document.addEventListener("keydown", event => {
  const box = form.querySelector(`input[value="${event.key}"]`);
  if (box && !scores.disabled) { box.checked = true; update(); }
});
{% if trial.played %}enable(); play.textContent = "↻ Play again";{% endif %}
</script>{% endblock %}"""

DONE = """{% extends "base.html" %}{% block body %}<main>
<h1>Thank you, {{ rater.name }}!</h1>
<p>You have rated all {{ total }} clips. Your ratings are saved; you can close this page.</p>
</main>{% endblock %}"""

MESSAGE = """{% extends "base.html" %}{% block body %}<main>
<h1>{{ heading }}</h1><p class="error">{{ message }}</p><p><a href="{{ url_for('index') }}">Start page</a></p>
</main>{% endblock %}"""

RESULTS = """{% extends "base.html" %}{% block title %}MOS{% endblock %}{% block body %}<main class="wide">
<h1>MOS</h1>
<p class="meta">{{ report.total_ratings }} ratings from {{ report.raters|length }} raters · 5-point absolute category
rating · 95% CI = MOS ± t(0.975, n−1)·s/√n, clipped to the scale (JSON: ci95_low, ci95_high) · live from the study
database
(<a href="{{ url_for('results_json', key=key) }}">JSON</a>)</p>
<table id="mos"><tr><th>Model</th><th>MOS (95% CI)</th><th>ratings</th><th>raters</th><th>clips</th></tr>
{% for m in report.systems %}<tr><td>{{ label(m.system) }}</td><td>{{ mos_cell(m) }}</td><td>{{ m.ratings }}</td>
<td>{{ m.raters }}</td><td>{{ m.clips }}</td></tr>
{% endfor %}</table>
{% for note in report.notes %}<p class="meta">{{ note }}</p>{% endfor %}
<h2>Raters</h2>
<table id="raters"><tr><th>rater</th><th>ratings</th><th>mean score</th><th>reference mean</th><th>used</th></tr>
{% for r in report.raters %}<tr><td>{{ r.rater }}</td><td>{{ r.ratings }} / {{ total }}</td>
<td>{{ num(r.mean) }}</td><td>{{ num(r.reference_mean) }}</td><td>{{ 'no' if r.excluded else 'yes' }}</td></tr>
{% endfor %}</table>
</main>{% endblock %}"""

# .html names: Flask autoescapes templates by their suffix.
TEMPLATES = {"base.html": BASE, "index.html": INDEX, "rate.html": RATE, "done.html": DONE, "message.html": MESSAGE,
             "results.html": RESULTS}
