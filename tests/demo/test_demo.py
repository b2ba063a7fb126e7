"""`hifigan demo`: the held-out error falls, and every file holds what README says it holds."""

from __future__ import annotations

import math
import shutil
import warnings

import numpy as np
import pytest
import soundfile as sf
import torch

from hifigan.checkpoints.format import read_checkpoint
from hifigan.cli import main
from hifigan.data.corpus import Corpus
from hifigan.evaluation.metrics import METRICS, metric_bounds
from tests.support.files import save_config_json, write_clips
from tests.support.official_reference import reference_mel
from tests.support.signals import speechlike
from tests.support.tiny import tiny_config

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(autouse=True)
def _no_pretrained(monkeypatch):
    """No pretrained model to compare with: the real V1s would take the training budget (the comparison is tested
    with a tiny registered model in test_pretrained.py and test_demo_rates.py)."""
    monkeypatch.setattr("hifigan.pretrained.MODELS", {})


@pytest.fixture(autouse=True)
def _remove_runs(tmp_path):
    """The demo's run holds checkpoints: drop them after use."""
    yield
    shutil.rmtree(tmp_path, ignore_errors=True)


def _int16_by_hand(x: np.ndarray) -> np.ndarray:
    """x * 32768 truncated toward zero, clipped (the official int16 output)."""
    return np.clip(np.trunc(x.astype(np.float64) * 32768), -32768, 32767)


def _values(rows: list[dict], key: str) -> np.ndarray:
    return np.array([math.nan if r[key] is None else r[key] for r in rows], dtype=np.float64)


def test_demo_writes_what_the_readme_says_and_the_held_out_error_falls(tmp_path):
    """On 8 clips of 0.3-0.6 s (long enough for every metric, and for `hifigan evaluate`)."""
    import json

    from scipy.stats import t

    from hifigan.inference import Vocoder

    cfg = tiny_config()
    corpus, out = tmp_path / "corpus", tmp_path / "demo"
    write_clips(corpus, 8, seconds=(0.3, 0.6))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["demo", "--corpus", str(corpus), "--out", str(out), "--budget-minutes", "0.1", "--config",
                     str(save_config_json(tmp_path / "tiny.json", cfg)), "--batch-size", "2", "--valid-count", "2",
                     "--gan-fraction", "0.4", "--seed", "5", "--no-progress"]) == 0
    assert cfg.seed != 5
    _, held_out = Corpus(folder=corpus, valid_count=2).resolve(5)  # --seed: the held-out draw's too
    stems = [p.stem for p in held_out]

    # results.json: every metric of every held-out clip at the start and the end, their means and 95% CIs.
    result = json.loads((out / "results.json").read_text())
    rows, mean = result["rows"][:-1], result["rows"][-1]
    assert [r["clip"] for r in rows] == stems and mean["clip"] == "mean"
    assert result["steps"] > result["disc_start_step"] > 0, "both phases ran"
    for name in METRICS:
        for when in ("start", "end"):
            values = _values(rows, f"{name} {when}")
            summary = result["summary"][when][name]
            finite = values[np.isfinite(values)]
            if len(finite) == 0:
                assert summary["mean"] is None and mean[f"{name} {when}"] is None
                continue
            assert summary["mean"] == pytest.approx(finite.mean()) == mean[f"{name} {when}"]
            if len(finite) > 1:
                half = t.ppf(0.975, len(finite) - 1) * finite.std(ddof=1) / math.sqrt(len(finite))
                low, high = metric_bounds(name, cfg.sampling_rate)  # two clips: a wide interval, often clipped
                assert summary["ci95_low"] == pytest.approx(max(low, finite.mean() - half))
                assert summary["ci95_high"] == pytest.approx(min(high, finite.mean() + half))
    assert mean["mel_l1 end"] < 0.9 * mean["mel_l1 start"], "the held-out error falls"
    markdown = (out / "results.md").read_text()
    assert all(f"| {info.title}" in markdown for info in METRICS.values()) and "## per clip" in markdown

    # reference/<clip>.wav: the held-out recording as trained on (peak 0.95); generated/<clip>.wav: the trained
    # generator (run/checkpoints/latest.pt) on its mel; <clip>_mel.png: both mels side by side.
    vocoder = Vocoder.from_checkpoint(out / "run" / "checkpoints" / "latest.pt", backend="eager")
    for path, stem in zip(held_out, stems):
        recorded = sf.read(path, dtype="int16")[0] / 32768
        normalised = (recorded / np.abs(recorded).max() * 0.95).astype(np.float32)
        reference, rate = sf.read(out / "reference" / f"{stem}.wav", dtype="int16")
        assert rate == cfg.sampling_rate and np.abs(reference - _int16_by_hand(normalised)).max() <= 1
        mel = reference_mel(torch.from_numpy(normalised)[None], **cfg.mel_kwargs())[0]
        generated = sf.read(out / "generated" / f"{stem}.wav", dtype="int16")[0]
        expected = _int16_by_hand(vocoder(mel).numpy())
        assert generated.shape == expected.shape == (mel.shape[1] * cfg.hop_size,)
        assert np.abs(generated - expected).max() <= 1
        assert (out / f"{stem}_mel.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        before = sf.read(out / "start" / f"{stem}.wav", dtype="int16")[0]  # the untrained generator's
        assert before.shape == generated.shape and np.abs(before - generated).max() > 1000

    # evaluation.json / .png: the end state's report on those pairs, the same values as results.json's "end".
    report = json.loads((out / "evaluation.json").read_text())
    assert [f["stem"] for f in report["files"]] == stems
    inputs = report["settings"]["inputs"]  # the corpus at the config's rate: nothing resampled (the demo could)
    assert report["settings"]["resample"] and inputs["reference"]["resampled_from"] == {} == result["settings"][
        "end"]["inputs"]["generated"]["resampled_from"] and inputs["reference"]["sampling_rates"] == {"8000": 2}
    for entry, row, stem in zip(report["files"], rows, stems):
        assert (entry["reference"], entry["generated"]) == (str(out / "reference" / f"{stem}.wav"),
                                                            str(out / "generated" / f"{stem}.wav"))
        assert entry["metrics"] == {name: row[f"{name} end"] for name in METRICS}
    assert (out / "evaluation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "evaluation.html").read_text()  # the listening page: recordings, start and end side by side
    assert all(page.count(f'data-system="{s}"') == len(stems) for s in ("reference", "start", "end"))

    # hifigan evaluate re-scores the written pairs (after int16 rounding: close to the end scores).
    assert main(["evaluate", "--reference", str(out / "reference"), "--generated", str(out / "generated"),
                 "--config", str(tmp_path / "tiny.json"), "--metrics", "mel_l1", "--out", str(out / "eval") + "/"]) == 0
    rescored = json.loads((out / "eval" / "evaluation.json").read_text())["files"]
    assert [f["stem"] for f in rescored] == stems
    for entry, row in zip(rescored, rows):
        assert entry["metrics"]["mel_l1"] == pytest.approx(row["mel_l1 end"], rel=0.05)

    # run/: TensorBoard logs, and a checkpoint that `hifigan train --resume` continues with no data options.
    assert list((out / "run" / "logs").glob("events.out.tfevents.*"))
    steps = result["steps"]
    saved = read_checkpoint(out / "run" / "checkpoints" / "latest.pt")
    assert saved["step"] == steps
    assert saved["config"]["disc_start_step"] == result["disc_start_step"], "the config says when the GAN began"
    assert saved["config"]["seed"] == 5, "demo --seed is train's"
    assert main(["train", "--resume", str(out / "run"), "--max-steps", str(steps + 1), "--no-progress"]) == 0
    assert read_checkpoint(out / "run" / "checkpoints" / "latest.pt")["step"] == steps + 1
    # A second demo into the same folder: refused in one line, the first one's files untouched.
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert main(["demo", "--corpus", str(corpus), "--out", str(out), "--budget-minutes", "0.1", "--config",
                 str(tmp_path / "tiny.json"), "--batch-size", "2", "--valid-count", "2", "--no-progress"]) == 2
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == before


def test_demo_scores_every_metric_and_tables_them_with_direction():
    """`compare` scores a pair with every metric: the mel L1 and the SNR computed here by hand; a clip too
    short for the other metrics gets its mel L1 and NaN for the rest."""
    from hifigan.demo.clips import compare
    from hifigan.demo.run import summary_table
    from hifigan.evaluation.metrics import min_samples

    cfg = tiny_config()
    rng = np.random.default_rng(0)
    t = np.arange(cfg.sampling_rate // 2) / cfg.sampling_rate
    reference = (0.4 * np.sin(2 * np.pi * 180 * t) + 0.02 * rng.standard_normal(len(t))).astype(np.float32)
    generated = (reference + 0.05 * rng.standard_normal(len(t))).astype(np.float32)
    scores = compare(reference, generated, cfg)
    assert list(scores) == list(METRICS)
    loss_mel = cfg.mel_kwargs(for_loss=True)
    by_hand = (reference_mel(torch.from_numpy(generated)[None], **loss_mel)
               - reference_mel(torch.from_numpy(reference)[None], **loss_mel)).abs().mean()
    assert scores["mel_l1"] == pytest.approx(float(by_hand), rel=1e-5)
    noise = reference.astype(np.float64) - generated
    assert scores["snr"] == pytest.approx(10 * np.log10(np.sum(reference.astype(np.float64) ** 2) / np.sum(noise**2)))
    assert all(np.isfinite(v) for v in scores.values())
    short = compare(reference[: min_samples(cfg) - 1], generated[: min_samples(cfg) - 1], cfg)
    assert list(short) == list(METRICS) and short["mel_l1"] > 0
    assert all(math.isnan(v) for k, v in short.items() if k != "mel_l1")
    table = summary_table(["long", "short"], [scores, short], [scores, scores])
    for info in METRICS.values():
        better = "higher" if info.higher_is_better else "lower"
        assert any(line.startswith(f"| {info.title}") and f"| {better} |" in line for line in table.splitlines())
    assert "(1 undefined)" in table


def test_the_columns_share_each_recordings_pitch_track_and_keep_their_values():
    """score_clips of two columns (as the demo scores the start, each pretrained model and the end) with one
    ReferenceTracks: one track per recording, and every value the one scored without it, bit for bit."""
    from hifigan.demo.clips import Vocoded, score_clips
    from hifigan.evaluation.pitch import ReferenceTracks

    cfg = tiny_config()
    rng = np.random.default_rng(1)
    references = [speechlike(0.4, cfg.sampling_rate, seed=i) for i in range(2)]
    columns = [[Vocoded(f"c{i}", x, np.zeros((cfg.num_mels, 1), np.float32),
                        (x + noise * rng.standard_normal(len(x))).astype(np.float32)) for i, x in enumerate(references)]
               for noise in (0.01, 0.05)]
    tracks = ReferenceTracks()
    shared = [score_clips(clips, cfg, tracks) for clips in columns]
    assert len(tracks) == 2
    assert repr(shared) == repr([score_clips(clips, cfg) for clips in columns])


@pytest.mark.parametrize(("flags", "words"), [
    (["--batch-size", "7"], "fewer than the batch size 7"),
    (["--segment-size", "100"], "demo options: segment_size (100) must be a multiple of hop_size (16)"),
    (["--device", "cuda"], "--device cuda: CUDA is not available on this machine"),
])
def test_bad_demo_options_are_one_line_before_anything_is_written(tmp_path, capsys, flags, words):
    if "cuda" in flags and torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    corpus, out = tmp_path / "corpus", tmp_path / "demo"
    write_clips(corpus, 8, seconds=(0.3, 0.6))
    code = main(["demo", "--corpus", str(corpus), "--out", str(out), "--config",
                 str(save_config_json(tmp_path / "tiny.json", tiny_config())), "--valid-count", "2", *flags])
    err = capsys.readouterr().err
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1 and not out.exists(), err


def test_summary_table_rows_of_the_metrics_given_with_their_mean_and_t_interval():
    """Scores of one metric (SNR, not METRICS' first): its row alone, mean [95% CI] by hand: two clips 1 dB apart
    from their mean, so the standard error is 1 and the interval mean +- t(0.975, 1) = 12.7062."""
    from hifigan.demo.run import summary_table

    table = summary_table(["a", "b"], [{"snr": 10.0}, {"snr": 12.0}], [{"snr": 20.0}, {"snr": 22.0}]).splitlines()
    assert table[2:] == ["| SNR (dB) | higher | 11.0000 [-1.7062, 23.7062] | 21.0000 [8.2938, 33.7062] |"]


def test_score_table_mean_row_skips_undefined_clips_and_shows_none_defined_as_a_dash():
    """The mean row is the mean over the clips where a metric is defined (a clip too short for it scores NaN), NaN
    where no clip has it; format_table shows NaN as "-"."""
    from hifigan.demo.tables import format_table, score_table

    nan = math.nan
    start = [{"snr": 10.0, "pesq": nan}, {"snr": nan, "pesq": nan}, {"snr": 14.0, "pesq": nan}]
    end = [{"snr": 20.0, "pesq": 2.0}, {"snr": 22.0, "pesq": nan}, {"snr": 27.0, "pesq": 3.0}]
    rows = score_table(["a", "b", "c"], start, end)
    mean = rows[-1]
    assert [r["clip"] for r in rows] == ["a", "b", "c", "mean"]
    assert (mean["snr start"], mean["snr end"], mean["pesq end"]) == (12.0, 23.0, 2.5)
    assert math.isnan(mean["pesq start"])
    assert format_table(rows).splitlines()[-1] == "| mean | 12.0000 | - | 23.0000 | 2.5000 |"


def test_summary_table_names_each_cause_of_an_undefined_metric_as_evaluate_does():
    """Below the table, one item per column and cause, worded as `hifigan evaluate`'s cause lines (the same
    function): the cells said only "(1 undefined)"."""
    from hifigan.demo.tables import summary_table
    from hifigan.evaluation.undefined import OVERFLOW, SILENT_GENERATED, Undefined

    start = [{"snr": 1.0, "pesq": Undefined(SILENT_GENERATED)}, {"snr": 2.0, "pesq": Undefined(SILENT_GENERATED)}]
    end = [{"snr": 20.0, "pesq": 3.0}, {"snr": Undefined(OVERFLOW), "pesq": Undefined(OVERFLOW)}]
    table = summary_table(["a", "b"], start, end, sampling_rate=22050).splitlines()
    assert table[2:] == [
        "| SNR (dB) | higher | 1.5000 [-4.8531, 7.8531] | 20.0000 (1 undefined) |",
        "| PESQ (wb) | higher | - (2 undefined) | 3.0000 (1 undefined) |",
        "",
        f"- start: PESQ (wb) undefined for 2 files (a, b): {SILENT_GENERATED}",
        f"- end: SNR, PESQ (wb) undefined for 1 file (b): {OVERFLOW}",
    ]
