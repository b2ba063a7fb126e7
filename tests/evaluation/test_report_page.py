"""`hifigan evaluate --html` and hifigan.evaluation.report: the page holds every clip of every system (audio
bytes exactly, mel image, metrics), the summary equals the JSON reports, nothing is fetched from elsewhere,
errors are one line."""

from __future__ import annotations

import base64
import io
import json
import os
import re
from html.parser import HTMLParser
from urllib.parse import quote, unquote

import numpy as np
import pytest
import soundfile as sf

from hifigan.audio import save_audio
from hifigan.evaluation.report.media import wav_bytes
from tests.support.cli_runs import run
from tests.support.signals import SR, speechlike, with_noise_at_snr


class Page(HTMLParser):
    """The parts of the page a test checks: per (clip, card) the audio and image sources, the summary cells."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.clip = self.card = None
        self.cards: dict[tuple[str, str], dict[str, str]] = {}
        self.sources: list[str] = []
        self.meta: dict[str, str] = {}
        self.ids: list[str] = []  # the clips' sections'
        self.links: list[str] = []  # in the page (#...)
        self.in_summary, self.summary_text = False, []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href"):
            if key in a and not a[key].startswith("#"):  # a link within the page fetches nothing
                self.sources.append(a[key])
        if tag == "section":
            self.clip = a["id"].removeprefix("clip-")
            self.ids.append(a["id"])
        elif tag == "a" and a.get("href", "").startswith("#"):
            self.links.append(a["href"])
        elif tag == "div" and "data-system" in a:
            self.card = a["data-system"]
            self.cards[(self.clip, self.card)] = {}
        elif tag in ("audio", "img") and self.card is not None:
            self.cards[(self.clip, self.card)][tag] = a["src"]
        elif tag == "meta" and "http-equiv" in a:
            self.meta[a["http-equiv"]] = a["content"]
        elif tag == "table" and a.get("id") == "summary":
            self.in_summary = True

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_summary = False

    def handle_data(self, data):
        if self.in_summary and data.strip():
            self.summary_text.append(data.strip())


def decode(uri: str, mime: str) -> bytes:
    prefix = f"data:{mime};base64,"
    assert uri.startswith(prefix), uri[:40]
    return base64.b64decode(uri[len(prefix):])


@pytest.fixture
def systems(tmp_path):
    """ref/ with clips a, b; good/ (20 dB SNR) and bad/ (5 dB SNR) with the same stems."""
    for name in ("ref", "good", "bad"):
        (tmp_path / name).mkdir()
    for i, stem in enumerate(["a", "b"]):
        x = speechlike(0.6, seed=i)
        save_audio(tmp_path / "ref" / f"{stem}.wav", x, SR)
        save_audio(tmp_path / "good" / f"{stem}.wav", with_noise_at_snr(x, 20.0, seed=i), SR)
        save_audio(tmp_path / "bad" / f"{stem}.wav", with_noise_at_snr(x, 5.0, seed=i), SR)
    return tmp_path


def test_page_puts_every_system_of_every_clip_side_by_side(systems, capsys):
    out = systems / "rep"
    code, stdout, err = run(capsys, "evaluate", "--reference", str(systems / "ref"), "--system", str(systems / "good"),
                            "--system", f"noisy={systems / 'bad'}", "--out", f"{out}/", "--html",
                            "--metrics", "mel_l1,snr")
    assert code == 0, err
    written = [str(out / f"evaluation-{n}.{e}") for n in ("good", "noisy") for e in ("json", "png")]
    assert "== good" in stdout and "== noisy" in stdout
    assert stdout.splitlines()[-1] == "wrote " + ", ".join([*written, str(out / "evaluation.html")])
    assert sorted(p.name for p in out.iterdir()) == ["evaluation-good.json", "evaluation-good.png",
                                                     "evaluation-noisy.json", "evaluation-noisy.png",
                                                     "evaluation.html"]
    page = Page((out / "evaluation.html").read_text())
    folders = {"reference": "ref", "good": "good", "noisy": "bad"}
    assert set(page.cards) == {(clip, card) for clip in "ab" for card in folders}
    for (clip, card), media in page.cards.items():
        wav = systems / folders[card] / f"{clip}.wav"
        assert decode(media["audio"], "audio/wav") == wav.read_bytes(), (clip, card)  # the file, byte for byte
        assert decode(media["img"], "image/png")[:8] == b"\x89PNG\r\n\x1a\n"
    # self-contained: every source is inside the page, and the policy forbids fetching anything else
    assert all(s.startswith("data:") for s in page.sources)
    assert page.meta["Content-Security-Policy"].startswith("default-src 'none'")
    assert "media-src data:" in page.meta["Content-Security-Policy"]
    # the summary shows each system's mean and 95% CI as its JSON report has them
    for name in ("good", "noisy"):
        summary = json.loads((out / f"evaluation-{name}.json").read_text())["summary"]
        for metric in ("mel_l1", "snr"):
            s = summary[metric]
            assert f"{s['mean']:.3f}" in page.summary_text
            assert f"[{s['ci95_low']:.3f}, {s['ci95_high']:.3f}]" in page.summary_text
    snr_good = json.loads((out / "evaluation-good.json").read_text())["summary"]["snr"]["mean"]
    html = (out / "evaluation.html").read_text()
    assert f'<span class="best">{snr_good:.3f}</span>' in html
    # every player's duration: the 0.6 s clip's loss-mel frames x hop 256 at 22050 Hz, to within a hop
    durations = [float(d) for d in re.findall(r'duration</td><td>([0-9.]+) s', html)]
    assert len(durations) == 6 and all(abs(d - 0.6) <= 256 / 22050 + 0.005 for d in durations), durations


def test_one_system_keeps_the_evaluate_outputs_and_links_audio(systems, capsys):
    out = systems / "reports" / "v1"
    code, _, err = run(capsys, "evaluate", "--reference", str(systems / "ref"), "--system", str(systems / "good"),
                       "--out", str(out), "--html", "--html-audio", "link", "--metrics", "mel_l1")
    assert code == 0, err
    assert sorted(p.name for p in out.parent.iterdir()) == ["v1.html", "v1.json", "v1.png"]
    page = Page((out.parent / "v1.html").read_text())
    for (clip, card), media in page.cards.items():
        target = (out.parent / unquote(media["audio"])).resolve()
        assert target == (systems / ("ref" if card == "reference" else "good") / f"{clip}.wav").resolve()
    assert "media-src 'self' file: data:" in page.meta["Content-Security-Policy"]
    assert 'class="best"' not in (out.parent / "v1.html").read_text()  # one system: nothing to compare


def test_mel_images_are_coloured_on_the_recordings_range(tmp_path, capsys):
    """A system 12 dB quieter than the recording: on the recording's colour scale it never reaches the brightest
    colour, which the recording's own loudest bin takes."""
    import matplotlib
    import matplotlib.image

    x = speechlike(0.3)
    for name, gain in (("ref", 1.0), ("quiet", 0.25)):
        (tmp_path / name).mkdir()
        save_audio(tmp_path / name / "a.wav", gain * x, SR)
    code, _, err = run(capsys, "evaluate", "--reference", tmp_path / "ref", "--system", tmp_path / "quiet",
                       "--out", tmp_path / "rep", "--html", "--metrics", "mel_l1")
    assert code == 0, err
    page = Page((tmp_path / "rep.html").read_text())
    brightest = np.array(matplotlib.colormaps["magma"](1.0)[:3])

    def reaches_top(card: str) -> bool:
        png = decode(page.cards[("a", card)]["img"], "image/png")
        pixels = matplotlib.image.imread(io.BytesIO(png), format="png")[..., :3]
        return bool((np.abs(pixels - brightest).max(axis=-1) < 1.5 / 255).any())

    assert reaches_top("reference") and not reaches_top("quiet")


def test_values_are_written_to_three_decimals_below_a_hundred_in_magnitude():
    from hifigan.evaluation.report.page import _fmt

    assert [_fmt(v) for v in (1.23456, -12.34567, 123.456, -123.456, None, float("nan"))] == [
        "1.235", "-12.346", "123.5", "-123.5", "–", "–"]


@pytest.mark.parametrize("fmt, subtype, written", [("FLAC", "PCM_16", "PCM_16"), ("FLAC", "PCM_24", "PCM_24"),
                                                   ("AIFF", "FLOAT", "FLOAT"), ("WAV", "DOUBLE", "FLOAT")])
def test_audio_in_another_format_is_embedded_as_wav_with_the_same_samples(tmp_path, fmt, subtype, written):
    """Same samples, in float32 for a 64-bit float file (no browser plays 64-bit WAV; 16-bit PCM would lose bits)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-0.9, 0.9, (1000, 2))
    path = tmp_path / f"x.{fmt.lower()}"
    sf.write(path, x, 16000, format=fmt, subtype=subtype)
    dtype = "float32" if written == "FLOAT" else "int32"
    original, _ = sf.read(path, dtype=dtype)
    wav = tmp_path / "x.wav"
    wav.write_bytes(wav_bytes(path))
    info = sf.info(wav)
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("WAV", written, 16000, 2)
    np.testing.assert_array_equal(sf.read(wav, dtype=dtype)[0], original)  # exact, 24-bit included


@pytest.mark.parametrize("case", ["no-out", "same-name", "missing-clip", "not-audio"])
def test_bad_input_is_one_line_and_writes_no_page(systems, capsys, case):
    ref, good, bad = (str(systems / n) for n in ("ref", "good", "bad"))
    args = ["--reference", ref, "--system", good, "--system", f"n={bad}", "--out", f"{systems / 'rep'}/",
            "--html", "--metrics", "mel_l1"]
    expected = {"no-out": "--html needs --out", "same-name": "two systems named 'good'",
                "missing-clip": "no generated file of the same stem", "not-audio": "not a readable audio file"}[case]
    if case == "no-out":
        args = args[:6] + args[8:]
    elif case == "same-name":
        args[5] = f"good={bad}"
    elif case == "missing-clip":
        os.remove(systems / "bad" / "b.wav")
    else:
        (systems / "bad" / "b.wav").write_text("not audio")
    code, _, err = run(capsys, "evaluate", *args)
    assert code == 2 and len(err.strip().splitlines()) == 1 and expected in err, err
    assert not (systems / "rep" / "evaluation.html").exists()


def test_a_page_over_the_size_browsers_handle_is_written_with_a_warning(systems, capsys, monkeypatch):
    """Above LARGE_PAGE_BYTES the page is still written, and a warning (the CLI's `hifigan evaluate: warning:`
    line) suggests --html-audio link; the threshold is lowered here instead of embedding 200 MB of audio."""
    from hifigan.evaluation.report import page

    monkeypatch.setattr(page, "LARGE_PAGE_BYTES", 1000)
    out = systems / "big"
    with pytest.warns(UserWarning, match=r"evaluation\.html is \d+(\.\d)? KB; browsers may be slow to open it "
                                         r"\(--html-audio link keeps the audio in its files\)$"):
        code, _, err = run(capsys, "evaluate", "--reference", str(systems / "ref"), "--system",
                           str(systems / "good"), "--out", f"{out}/", "--html", "--metrics", "snr")
    assert code == 0 and err == "" and (out / "evaluation.html").stat().st_size > 1000


def test_write_page_refuses_no_systems_and_systems_of_other_clips(tmp_path):
    """From Python: a page needs a system, and every system must hold the first one's clips in its order (the CLI
    pairs every system with the recordings first); nothing is written."""
    from hifigan.config import load_config
    from hifigan.errors import HifiganError
    from hifigan.evaluation.report.page import write_page
    from hifigan.evaluation.results import FileResult, Report

    def report(*stems: str) -> Report:
        return Report([FileResult(s, f"ref/{s}.wav", f"gen/{s}.wav", 1.0, 0, {}) for s in stems], {})

    page, config = tmp_path / "page.html", load_config("v1")
    for systems, message in [({}, "nothing to report (no systems)"),
                             ({"a": report("x", "y"), "b": report("y", "x")}, "system 'b' has other clips than 'a'")]:
        with pytest.raises(HifiganError) as info:
            write_page(page, systems, config, cli=False)
        assert str(info.value) == message
    assert list(tmp_path.iterdir()) == []


def test_clip_ids_are_valid_unique_and_the_headings_link_to_them(tmp_path, capsys):
    """A stem with a space gave id="clip-take 1" (no HTML id holds whitespace) and '#' or '%' one no URL fragment
    carries as it is; stems that become the same id are told apart, and each clip's heading links to its own."""
    stems = ["take 1", "take-1", "take#1", "50%", "über grün"]
    for name in ("ref", "gen"):
        (tmp_path / name).mkdir()
        for i, stem in enumerate(stems):
            save_audio(tmp_path / name / f"{stem}.wav", speechlike(0.3, seed=i), SR)
    code, _, err = run(capsys, "evaluate", "--reference", str(tmp_path / "ref"), "--system", str(tmp_path / "gen"),
                       "--out", f"{tmp_path / 'rep'}/", "--html", "--metrics", "mel_l1")
    assert code == 0, err
    page = Page((tmp_path / "rep" / "evaluation.html").read_text())
    by_stem = dict(zip(sorted(stems), page.ids))  # the clips in the order of their stems
    assert by_stem == {"50%": "clip-50-", "take 1": "clip-take-1", "take#1": "clip-take-1-2",
                       "take-1": "clip-take-1-3", "über grün": "clip-über-grün"}
    assert page.links == [f"#{quote(i)}" for i in page.ids]
    assert [unquote(link[1:]) for link in page.links] == page.ids  # what a browser looks the fragment up as
    assert all(re.fullmatch(r"#[A-Za-z0-9_.%-]+", link) for link in page.links)  # no character a fragment escapes


def test_clip_ids_take_the_first_free_number():
    from hifigan.evaluation.report.names import clip_ids

    assert clip_ids(["a", "a", "a-2", "a b", "LJ001-0001"]) == ["clip-a", "clip-a-2", "clip-a-2-2", "clip-a-b",
                                                                "clip-LJ001-0001"]


def test_the_best_is_marked_by_the_value_shown_and_ties_shown_alike_are_all_marked():
    """Two means both shown as 4.644 are equally best (4.6439 vs 4.6438 is below what the page shows), in the
    summary and in a clip's cards; one shown higher is best alone; lower-is-better metrics take the smallest."""
    from hifigan.evaluation.confidence import MetricSummary
    from hifigan.evaluation.report.page import _summary_rows, best_shown
    from hifigan.evaluation.results import Report

    assert best_shown("pesq", [4.6439, 4.6438, 4.6431]) == [True, True, False]  # 4.644, 4.644, 4.643
    assert best_shown("pesq", [4.6439, 4.6446]) == [False, True]  # 4.644, 4.645
    assert best_shown("mel_l1", [0.2504, 0.2496, float("nan")]) == [True, True, False]  # 0.250 twice, then –
    assert best_shown("snr", [123.44, 123.36, 12.0]) == [True, True, False]  # 123.4 twice: one decimal from 100
    assert best_shown("snr", [3.0]) == [False] and best_shown("snr", [None, float("nan")]) == [False, False]

    def report(mean: float) -> Report:
        return Report([], {"pesq": MetricSummary(mean, 0.0, None, None, 1, 0)})

    [row] = _summary_rows({"a": report(4.6439), "b": report(4.6438)}, ["pesq"], SR)
    assert [(mean, best) for mean, _, _, _, best in row["cells"]] == [("4.644", True), ("4.644", True)]
