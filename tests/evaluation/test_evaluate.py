"""`hifigan evaluate` and hifigan.evaluation: pairing by stem, the report files (the summary statistics:
test_summary_statistics.py; the command's refusals of bad inputs: test_evaluate_errors.py)."""

from __future__ import annotations

import json
import math
import unicodedata
import warnings

import numpy as np
import pytest

from hifigan.audio import load_audio, save_audio
from hifigan.config import load_config
from hifigan.errors import HifiganError
from hifigan.evaluation.evaluate import evaluate_pairs
from hifigan.evaluation.metrics import METRICS, compute_metrics
from hifigan.evaluation.output import report_paths
from hifigan.evaluation.results import FileResult, Report, aggregate
from tests.support.cli_runs import run, run_module
from tests.support.signals import SR, speechlike, with_noise_at_snr

CONFIG = load_config("v1")


def test_cli_prints_a_table_and_writes_json_and_png(folders, tmp_path, capsys):
    ref_dir, gen_dir = folders
    out_dir = tmp_path / "report"
    code, out, err = run(capsys, "evaluate", "--reference", str(ref_dir), "--system", str(gen_dir), "--out",
                         f"{out_dir}/", "--per-file")
    assert code == 0, err
    assert "95% CI" in out and "PESQ (wb)" in out and "\na " in out  # summary and the per-file rows
    report = json.loads((out_dir / "evaluation.json").read_text())
    assert [f["stem"] for f in report["files"]] == ["a", "b"]
    assert list(report["summary"]) == list(METRICS)
    for f in report["files"]:
        assert f["metrics"]["snr"] == pytest.approx(20.0, abs=0.1)  # int16 rounding adds a little noise
        assert f["shift_samples"] == 0 and f["duration_s"] == pytest.approx(1.2, abs=1e-3)
    for name, s in report["summary"].items():
        assert s["n"] == 2 and s["n_undefined"] == 0, name
        assert s["ci95_low"] <= s["mean"] <= s["ci95_high"], name
    assert report["settings"]["pitch"]["frame_length"] == 2048
    assert report["timing"]["audio_seconds"] == pytest.approx(2.4, abs=1e-2)
    assert (out_dir / "evaluation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in out_dir.iterdir()) == ["evaluation.json", "evaluation.png"]  # no temp files


def test_a_stem_with_dollars_and_a_glyph_the_font_lacks_is_drawn_as_written(tmp_path, capsys):
    """The PNG's example title is the file's stem: `$_$` was read as mathtext (ValueError: an internal error, exit 1)
    and a CJK name warned of each missing glyph; both are drawn as written, nothing said."""
    audio = speechlike(0.5)
    for folder in ("ref", "gen"):
        (tmp_path / folder).mkdir()
        for stem in ("a$_$b", "録音"):
            save_audio(tmp_path / folder / f"{stem}.wav", audio, SR)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a glyph warning fails the test, as it would print on the command's stderr
        code, _, err = run(capsys, "evaluate", "--reference", str(tmp_path / "ref"), "--system", str(tmp_path / "gen"),
                           "--out", f"{tmp_path / 'report'}/", "--metrics", "mel_l1", "-q")
    assert (code, err) == (0, "")
    assert (tmp_path / "report" / "evaluation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_out_prefix_and_metric_subset(folders, tmp_path, capsys):
    ref_dir, gen_dir = folders
    code, out, err = run(capsys, "evaluate", "--reference", str(ref_dir), "--system", str(gen_dir),
                         "--out", str(tmp_path / "runs" / "v1-eval.json"), "--metrics", "snr,mel_l1")
    assert code == 0, err
    report = json.loads((tmp_path / "runs" / "v1-eval.json").read_text())
    assert list(report["summary"]) == ["mel_l1", "snr"]  # METRICS order, whatever the request order
    assert (tmp_path / "runs" / "v1-eval.png").is_file()
    assert "PESQ" not in out


def test_report_paths_folder_and_prefix(tmp_path):
    (tmp_path / "existing").mkdir()
    assert report_paths(tmp_path / "existing") == (tmp_path / "existing" / "evaluation.json",
                                                   tmp_path / "existing" / "evaluation.png")
    new = tmp_path / "new"
    assert report_paths(f"{new}/") == (new / "evaluation.json", new / "evaluation.png")
    assert report_paths(tmp_path / "p") == (tmp_path / "p.json", tmp_path / "p.png")
    (tmp_path / "file").write_text("x")
    with pytest.raises(HifiganError, match="not a folder"):
        report_paths(tmp_path / "file" / "p")


def test_one_sample_delay_with_max_shift_is_recorded(folders, capsys, tmp_path):
    ref_dir, gen_dir = folders
    x = load_audio(ref_dir / "a.wav", SR)
    save_audio(gen_dir / "a.wav", np.concatenate([[0.0], x[:-1]]), SR)
    code, _, err = run(capsys, "evaluate", "--reference", str(ref_dir), "--system", str(gen_dir), "--metrics", "snr",
                       "--max-shift", "3", "--out", str(tmp_path / "r"))
    assert code == 0, err
    first = json.loads((tmp_path / "r.json").read_text())["files"][0]
    assert first["shift_samples"] == 1 and first["metrics"]["snr"] == 100.0  # the cap; int16 in, int16 out: exact


def test_evaluate_pairs_api_reports_undefined_values_as_null(tmp_path):
    """The function `hifigan vocode --evaluate` calls: pairs in, Report out; NaN (silence) becomes JSON null."""
    save_audio(tmp_path / "ref.wav", speechlike(1.0), SR)
    save_audio(tmp_path / "silent.wav", np.zeros(SR, np.float32), SR)
    report = evaluate_pairs([("s", tmp_path / "ref.wav", tmp_path / "silent.wav")], CONFIG, None,
                            metrics=["pesq", "snr"], progress=False)
    assert isinstance(report, Report) and report.metric_names == ["snr", "pesq"]
    assert math.isnan(report.files[0].metrics["pesq"])
    assert report.summary["pesq"].n == 0 and report.summary["pesq"].n_undefined == 1
    text = json.dumps(report.to_dict(), allow_nan=False)
    assert json.loads(text)["files"][0]["metrics"]["pesq"] is None
    assert "-" in report.format_table()


def test_snr_against_a_silent_recording_is_undefined(tmp_path):
    """Σx² = 0: no signal to compare the error with. NaN, null in the JSON, `-` in the table, counted in n_undefined
    and left out of the mean (docs/evaluation.md lists it with the other undefined values)."""
    save_audio(tmp_path / "silent.wav", np.zeros(SR, np.float32), SR)
    save_audio(tmp_path / "ref.wav", speechlike(1.0), SR)
    save_audio(tmp_path / "gen.wav", with_noise_at_snr(speechlike(1.0), 20.0, seed=0), SR)
    pairs = [("quiet", tmp_path / "silent.wav", tmp_path / "gen.wav"), ("speech", tmp_path / "ref.wav",
                                                                         tmp_path / "gen.wav")]
    report = evaluate_pairs(pairs, CONFIG, tmp_path / "r", metrics=["snr"], progress=False)
    assert math.isnan(report.files[0].metrics["snr"]) and 15 < report.files[1].metrics["snr"] < 25
    summary = report.summary["snr"]
    assert (summary.n, summary.n_undefined, summary.mean) == (1, 1, report.files[1].metrics["snr"])
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["files"][0]["metrics"]["snr"] is None and saved["summary"]["snr"]["n_undefined"] == 1


def test_the_minimum_length_is_that_of_the_metrics_asked_for(tmp_path, capsys):
    """500-sample clips: enough for the SNR (any length), too short for the MR-STFT's 2048-sample frame; the error
    names the need of the metrics asked for (mel L1: one 1024-sample frame of v1)."""
    ref_dir, gen_dir = tmp_path / "ref", tmp_path / "gen"
    ref_dir.mkdir()
    gen_dir.mkdir()
    x = speechlike(1.0)[5000:5500]
    save_audio(ref_dir / "a.wav", x, SR)
    save_audio(gen_dir / "a.wav", with_noise_at_snr(x, 20.0, seed=0), SR)
    argv = ["evaluate", "--reference", ref_dir, "--system", gen_dir, "--out", tmp_path / "r"]
    code, _, err = run(capsys, *argv, "--metrics", "snr")
    assert code == 0, err
    assert 15 < json.loads((tmp_path / "r.json").read_text())["files"][0]["metrics"]["snr"] < 25
    code, _, err = run(capsys, *argv, "--metrics", "snr,mel_l1")
    assert code == 2 and "too short: 500 samples, the metrics need at least 1024" in err, err
    code, _, err = run(capsys, *argv, "--metrics", "mrstft,snr")
    assert code == 2 and "the metrics need at least 2048" in err, err
    assert compute_metrics(x, x, CONFIG, ["snr"]) == {"snr": 100.0}
    with pytest.raises(HifiganError, match="at least 2048"):
        compute_metrics(x, x, CONFIG)


def test_the_samples_trimmed_to_match_lengths_are_recorded_per_file(folders, capsys, tmp_path):
    """a: generated 100 samples shorter (the reference is trimmed); b: generated 256 longer (one hop, trimmed)."""
    ref_dir, gen_dir = folders
    save_audio(gen_dir / "a.wav", load_audio(ref_dir / "a.wav", SR)[:-100], SR)
    b = load_audio(ref_dir / "b.wav", SR)
    save_audio(gen_dir / "b.wav", np.concatenate([b, np.zeros(256, np.float32)]), SR)
    code, _, err = run(capsys, "evaluate", "--reference", ref_dir, "--system", gen_dir, "--metrics", "snr",
                       "--out", tmp_path / "r")
    assert code == 0, err
    files = {f["stem"]: f for f in json.loads((tmp_path / "r.json").read_text())["files"]}
    assert (files["a"]["trimmed_samples"], files["a"]["trimmed_from"]) == (100, "reference")
    assert (files["b"]["trimmed_samples"], files["b"]["trimmed_from"]) == (256, "generated")
    assert files["b"]["metrics"]["snr"] == 100.0  # the appended zeros were cut, the rest is identical
    report = evaluate_pairs([("b", ref_dir / "b.wav", ref_dir / "b.wav")], CONFIG, None, metrics=["snr"],
                            progress=False)
    assert (report.files[0].trimmed_samples, report.files[0].trimmed_from) == (0, None)


def test_the_package_names_the_public_api_and_loads_it_lazily():
    """`from hifigan import compute_metrics, aggregate, evaluate_pairs, ...`: the library's own objects; every name
    README documents there resolves, and `import hifigan` alone loads no torch."""
    import subprocess
    import sys

    import hifigan

    assert hifigan.compute_metrics is compute_metrics
    assert hifigan.aggregate is aggregate and hifigan.evaluate_pairs is evaluate_pairs
    assert all(getattr(hifigan, name) is not None for name in hifigan.__all__)
    with pytest.raises(AttributeError, match="no attribute 'evaluate'"):
        hifigan.evaluate  # noqa: B018  (the old shim modules are gone)
    loaded = subprocess.run([sys.executable, "-c", "import sys, hifigan; print(sorted({'torch', 'numpy'} & "
                             "set(sys.modules)))"], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


def test_lags_at_the_limit_of_max_shift_are_named_in_one_warning(folders, capsys, tmp_path):
    """Both files 40 samples late, searched over +-3: the lag found is an edge of the range, which is no alignment;
    one warning (the CLI's `hifigan evaluate: warning:` line) names both files. A file aligned inside the range is
    not named."""
    ref_dir, gen_dir = folders
    for stem in ("a", "b"):
        x = load_audio(ref_dir / f"{stem}.wav", SR)
        save_audio(gen_dir / f"{stem}.wav", np.concatenate([np.zeros(40), x[:-40]]), SR)
    argv = ["evaluate", "--reference", ref_dir, "--system", gen_dir, "--metrics", "snr", "--max-shift", "3"]
    with pytest.warns(UserWarning, match="limit of --max-shift 3") as caught:
        code, _, err = run(capsys, *argv, "--out", tmp_path / "r")
    assert code == 0, err
    files = json.loads((tmp_path / "r.json").read_text())["files"]
    assert [abs(f["shift_samples"]) for f in files] == [3, 3]
    warned = [str(w.message) for w in caught if "max-shift" in str(w.message)]
    assert len(warned) == 1 and str(gen_dir / "a.wav") in warned[0] and str(gen_dir / "b.wav") in warned[0]
    save_audio(gen_dir / "a.wav", np.concatenate([[0.0], load_audio(ref_dir / "a.wav", SR)[:-1]]), SR)
    with pytest.warns(UserWarning, match="limit of --max-shift 3") as caught:
        code, _, err = run(capsys, *argv)
    warned = [str(w.message) for w in caught if "max-shift" in str(w.message)]
    assert code == 0 and len(warned) == 1 and str(gen_dir / "a.wav") not in warned[0], err
    assert warned[0].startswith("1 file aligned") and str(gen_dir / "b.wav") in warned[0]


def test_the_max_shift_warning_is_one_cli_line(folders):
    """In a child process (pytest does not catch the warning there): `hifigan evaluate: warning: ...`, one line."""
    ref_dir, gen_dir = folders
    x = load_audio(ref_dir / "a.wav", SR)
    save_audio(gen_dir / "a.wav", np.concatenate([np.zeros(40), x[:-40]]), SR)
    done = run_module("evaluate", "--reference", ref_dir, "--system", gen_dir, "--metrics", "snr", "--max-shift", "3",
                      "--no-progress")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("hifigan evaluate: warning: 1 file aligned at the limit of "
                                                   "--max-shift 3"), done.stderr
    assert str(gen_dir / "a.wav") in lines[0]


def test_the_per_file_table_lines_up_names_of_wide_characters():
    """A terminal shows 日 two cells wide and a combining accent in none: the per-file table padded names by
    characters, so the columns of a Japanese-named file's row sat to the right of the others', a decomposed é's to
    the left."""
    named = (("日本語", 1.5), ("cafe\u0301", 2.0), ("a", 3.0))
    files = [FileResult(stem, "r", "g", 1.0, 0, {"snr": v}) for stem, v in named]
    report = Report(files, aggregate([f.metrics for f in files], ["snr"]))
    rows = report.format_table(per_file=True).splitlines()[1:4]
    cells = [sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in row)
             for row in rows]
    assert cells == [6 + 1 + 16] * 3  # the widest name (6 cells), a space, the metric's column
    assert [row.split() for row in rows] == [["日本語", "1.5000"], ["cafe\u0301", "2.0000"], ["a", "3.0000"]]
