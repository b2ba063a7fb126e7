"""The evaluation page's markup and style (Jinja, autoescaped; inline CSS, no script, no external resource)."""

from __future__ import annotations

import jinja2

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f; margin: 0 auto;
       max-width: 1400px; padding: 1.5em 2em 4em; background: #fafafa; }
h1 { font-size: 1.6em; margin: 0 0 .2em; }
h2 { font-size: 1.25em; margin: 1.8em 0 .6em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
h3 { font-size: 1.05em; margin: 1.4em 0 .5em; font-family: ui-monospace, monospace; }
h3 a { color: inherit; text-decoration: none; }
.meta { color: #555; margin: 0; }
code { font-family: ui-monospace, monospace; font-size: .92em; }
table { border-collapse: collapse; background: #fff; }
th, td { padding: .3em .7em; border: 1px solid #e0e0e0; text-align: right; }
th { background: #f0f0f3; }
td.name, th.name { text-align: left; }
.best { font-weight: 700; color: #0a6b2c; }
.ci { color: #666; font-size: .9em; }
.row { display: grid; gap: .8em; overflow-x: auto; padding-bottom: .3em; }
.card { background: #fff; border: 1px solid #e0e0e0; border-radius: 8px; padding: .6em .7em; min-width: 240px; }
.card.reference { border-color: #7aa7d9; background: #f5f9ff; }
.card h4 { margin: 0 0 .4em; font-size: 1em; }
.card audio { width: 100%; height: 36px; }
.card img { display: block; width: 100%; height: 90px; image-rendering: pixelated; border-radius: 3px;
            margin: .4em 0; }
.card table { width: 100%; font-size: .88em; }
.card td { border: 0; border-top: 1px solid #f0f0f0; padding: .12em .3em; }
.note { color: #666; font-size: .9em; }
"""

PAGE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<title>{{ title }}</title>
<style>{{ css|safe }}</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="meta">{{ count(clips|length, 'clip') }} · {{ count(systems|length, 'system') }} ·
 {{ config.sampling_rate }} Hz{% if other_rates %} ({{ other_rates }}){% endif %} ·
 written {{ created }} by <code>hifigan</code></p>
<p class="meta">reference: <code>{{ reference }}</code>{% for name in systems %} · <b>{{ name }}</b>:
 <code>{{ sources[name] }}</code>{% endfor %}</p>
{% if subset %}<p class="meta" id="subset">{{ subset }}</p>{% endif %}

<h2>Summary</h2>
<table id="summary">
<tr><th class="name">metric</th><th>better</th>{% for name in systems %}<th>{{ name }}</th>{% endfor %}</tr>
{% for row in summary %}<tr><td class="name">{{ row.title }}{% if row.unit %} ({{ row.unit }}){% endif %}</td>
<td>{{ row.better }}</td>{% for mean, ci, n, undefined, best in row.cells %}
<td><span class="{{ 'best' if best }}">{{ mean }}</span> <span class="ci">{{ ci }}</span>
{%- if undefined %} <span class="ci">({{ undefined }} undefined)</span>{% endif %}</td>{% endfor %}</tr>
{% endfor %}</table>
{% if undefined %}<div id="undefined"><p>Undefined values, left out of the means:</p><ul>
{% for name, lines in undefined.items() %}{% for line in lines %}<li>
{%- if systems|length > 1 %}<b>{{ name }}</b>: {% endif %}{{ line }}</li>
{% endfor %}{% endfor %}</ul></div>{% endif %}
<p class="note">Mean over the clips with the 95% confidence interval mean ± t(0.975, n−1)·s/√n (n ≥ 2), clipped to
the range the metric can take (a distance stops at 0, STOI at 1, PESQ at its band's limits);
the best mean of each metric as shown is in bold (means shown alike are all bold). Log-mel images use the loss
mel of the config ({{ config.num_mels }} bins, hop {{ config.hop_size }}),
coloured on the recording's range of each clip.</p>

<h2>Clips</h2>
{% for clip in clips %}<section class="clip" id="{{ clip.id }}">
<h3><a href="#{{ clip.id|urlencode }}">{{ clip.stem }}</a></h3>
<div class="row" style="grid-template-columns: repeat({{ clip.cells|length }}, minmax(240px, 1fr))">
{% for cell in clip.cells %}<div class="card {{ 'reference' if loop.first }}" data-system="{{ cell.label }}">
<h4>{{ cell.label }}</h4>
<audio controls preload="metadata" src="{{ cell.audio }}"></audio>
<img alt="log-mel of {{ clip.stem }}, {{ cell.label }}" src="{{ cell.mel }}">
<table>
<tr><td class="name">duration</td><td>{{ '%.2f' % cell.seconds }} s</td></tr>
{% for name, value, best, why in cell.metrics %}<tr><td class="name">{{ name }}</td>
<td class="{{ 'best' if best }}">{{ value }}
{%- if why %} <span class="note undefined">({{ why }})</span>{% endif %}</td></tr>
{% endfor %}</table>
</div>
{% endfor %}</div>
</section>
{% endfor %}
</body>
</html>
""", globals={"css": CSS})
