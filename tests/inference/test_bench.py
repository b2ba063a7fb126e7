"""`hifigan bench`: the table and JSON of every backend against eager (its figures from scripted timings), the
streaming line in them, and bad options refused in one line before anything is timed or written (--presets:
test_bench_presets.py; how the streaming line times and words its chunks: test_bench_stream.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from hifigan.cli import main
from tests.support.threads import threads
from tests.support.tiny import tiny_config

TOL = 1e-4  # as test_inference's: every backend's output against eager's


def test_bench_command_writes_table_and_json(tmp_path, capsys):
    cfg_path = tmp_path / "tiny.json"
    cfg_path.write_text(json.dumps(tiny_config("2").to_dict()))
    out = tmp_path / "bench.json"
    with threads(1):  # the bench runs on its --threads (2), then gives the caller's count back
        code = main(["bench", "--config", str(cfg_path), "--seconds", "0.5", "--repeats", "2",
                     "--backends", "eager,tiled", "--json", str(out)])
        assert torch.get_num_threads() == 1
    assert code == 0
    result = json.loads(out.read_text())
    assert result["baseline"].endswith("torch.set_num_threads(2)")
    rows = {r["backend"]: r for r in result["backends"]}
    assert set(rows) == {"eager", "tiled"} and rows["eager"]["speedup_vs_eager"] == 1.0
    assert all(r["max_abs_diff"] < TOL and r["peak_rss_mb"] > 0 and r["page_faults"] >= 0 for r in rows.values())
    assert rows["eager"]["solo_speedup_vs_eager"] == 1.0 and rows["tiled"]["solo_median_s"] > 0
    assert result["machine"]["cores"] >= 1 and result["stream"]["lookahead_frames"] == 7
    assert "x real time" in capsys.readouterr().out
    assert main(["bench", "--backends", "fused", "--seconds", "1"]) == 2
    assert np.isfinite(result["backends"][0]["x_real_time"])


@pytest.mark.parametrize(("flags", "words"), [
    (["--config", "nope"], "nope: no such config file or preset"),
    (["--pretrained", "lj-v2"], "unknown pretrained model 'lj-v2'"),
    (["--presets", "v9"], "no preset 'v9'"),
    (["-o", "new/"], "new/: names a folder; -o is the JSON file to write"),
])
def test_bench_refuses_bad_options_before_making_its_output_folder(tmp_path, capsys, flags, words):
    out = tmp_path / "new"
    output = [] if "-o" in flags else ["-o", str(out / "x.json")]
    flags = [f"{tmp_path}/{f}" if f == "new/" else f for f in flags]
    assert main(["bench", *flags, *output]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1 and not out.exists(), err


class _Clock:
    """A stand-in for time.perf_counter whose calls alternate start / end (as every timing in bench.py does): each
    end call advances the clock by the next scripted duration, so the timed runs take exactly those seconds."""

    def __init__(self, durations):
        self.durations, self.now, self.calls = list(durations), 100.0, 0

    def __call__(self) -> float:
        if self.calls % 2:
            self.now += self.durations.pop(0) if self.durations else 0.001
        self.calls += 1
        return self.now


def _scripted_clock(monkeypatch, durations) -> _Clock:
    import time
    import types

    import hifigan.inference.bench as bench
    import hifigan.inference.bench_stream as bench_stream

    clock = _Clock(durations)
    scripted = types.SimpleNamespace(perf_counter=clock, strftime=time.strftime, gmtime=time.gmtime)
    monkeypatch.setattr(bench, "time", scripted)
    monkeypatch.setattr(bench_stream, "time", scripted)
    return clock


def test_bench_reports_the_median_and_the_ratios_of_the_timed_runs(tmp_path, monkeypatch):
    """Scripted run times (0.256 s of tiny audio): medians, x real time and speedups are those of the figures, and
    the stream's chunk length, context and per-chunk median / max too."""
    from hifigan.inference.bench import run_bench
    from hifigan.inference.streaming import receptive_field

    cfg = tiny_config("2")
    cfg_path = tmp_path / "tiny.json"
    cfg_path.write_text(json.dumps(cfg.to_dict()))
    # three repeats, eager then fused in each; then one time per window of the stream: 5 a pass for its 4 chunks
    # (the last chunk's window and the stream's final one are its time), then each pass's end; 4 passes until
    # MIN_TIMED_CHUNKS = 16 chunks, the scripted times then spent (0.001 s each): median 30, max 60 (30 + 30)
    _scripted_clock(monkeypatch, [0.4, 0.1, 0.2, 0.3, 0.6, 0.25, 0.010, 0.050, *[0.030] * 18])
    with threads(1):
        result = run_bench(str(cfg_path), seconds=0.256, repeats=3, backends=("eager", "fused"), threads=1,
                           memory=False, stream_chunk_frames=32)
    eager, fused = result["backends"]
    assert result["audio_seconds"] == 0.256  # 128 frames of 16 samples at 8 kHz
    assert (eager["median_s"], eager["min_s"], fused["median_s"], fused["min_s"]) == (0.4, 0.2, 0.25, 0.1)
    assert (eager["x_real_time"], fused["x_real_time"]) == (0.64, 1.02)  # 0.256 / 0.4, 0.256 / 0.25
    assert (eager["speedup_vs_eager"], fused["speedup_vs_eager"]) == (1.0, 1.6)  # 0.4 / 0.25
    assert fused["speedup_vs_eager_min"] == 2.0  # 0.2 / 0.1
    stream = result["stream"]
    assert stream["chunk_audio_ms"] == 64.0  # 32 frames x 16 samples at 8 kHz
    assert (stream["per_chunk_ms_median"], stream["per_chunk_ms_max"]) == (30.0, 60.0)
    assert (stream["timed_chunks"], stream["timed_passes"]) == (16, 4)
    field = receptive_field(cfg)
    assert (stream["lookahead_frames"], stream["left_context_frames"]) == (field.right, field.left)


class _Faults:
    """A stand-in for resource.getrusage whose calls alternate before / after (as bench.py counts each timed run's
    page faults): each after call adds the next scripted count to ru_minflt."""

    RUSAGE_SELF = 0

    def __init__(self, counts):
        self.counts, self.total, self.calls = list(counts), 1000, 0

    def getrusage(self, who):
        import types

        if self.calls % 2:
            self.total += self.counts.pop(0)
        self.calls += 1
        return types.SimpleNamespace(ru_minflt=self.total, ru_maxrss=0)


def test_bench_reports_the_median_page_faults_of_the_timed_runs(tmp_path, monkeypatch):
    """Scripted page-fault counts: each backend's figure is the median of its runs, so one run that touches much
    fresh memory (a first allocation, another thread) does not become the figure."""
    import hifigan.inference.bench as bench

    cfg_path = tmp_path / "tiny.json"
    cfg_path.write_text(json.dumps(tiny_config("2").to_dict()))
    # three repeats, eager then fused in each: eager 5, 50, 7 (median 7), fused 9, 3, 100 (median 9)
    monkeypatch.setattr(bench, "resource", _Faults([5, 9, 50, 3, 7, 100]))
    with threads(1):
        result = bench.run_bench(str(cfg_path), seconds=0.256, repeats=3, backends=("eager", "fused"), threads=1,
                                 memory=False, stream_chunk_frames=64)
    eager, fused = result["backends"]
    assert (eager["page_faults"], fused["page_faults"]) == (7, 9)


def test_bench_child_reports_the_median_of_its_repeats(tmp_path, monkeypatch):
    """The fresh process's body (run here): "seconds" is the first vocoding's time, "solo_median_s" the median of the
    repeats after it."""
    from hifigan.inference.bench import _child

    cfg_path = tmp_path / "tiny.json"
    cfg_path.write_text(json.dumps(tiny_config("2").to_dict()))
    _scripted_clock(monkeypatch, [0.7, 0.3, 0.1, 0.2])
    with threads(1):
        result = _child({"config": str(cfg_path), "seconds": 0.256, "backend": "eager", "threads": 1,
                         "chunk_frames": 0, "repeats": 3})
    assert result["seconds"] == 0.7 and result["solo_median_s"] == 0.2 and result["peak_rss_mb"] > 0


def test_upper_median_is_a_measured_value():
    """Of an even count, the upper of the two middle values (not their mean): bench's figures are runs it timed."""
    from hifigan.inference.bench_stream import upper_median

    assert upper_median([0.3, 0.1, 0.2]) == 0.2
    assert upper_median([4, 1, 3, 2]) == 3
    assert upper_median([7]) == 7

def test_bench_table_cells_are_under_their_headers():
    from hifigan.inference.bench_table import TABLE_HEADER, table_rows

    row = {"backend": "fused", "median_s": 0.25, "x_real_time": 1.02, "speedup_vs_eager": 1.6,
           "solo_speedup_vs_eager": 1.25, "page_faults": 12, "peak_rss_mb": 321.5, "max_abs_diff": 3e-7}
    cells = dict(zip(TABLE_HEADER, table_rows({"backends": [row]})[0]))
    assert cells == {"backend": "fused", "median s": "0.250", "x real time": "1.02", "speedup vs eager": "1.60",
                     "solo speedup": "1.25", "page faults per run": "12", "peak RSS MB": "321.5",
                     "max abs diff": "3.0e-07"}


def test_bench_reports_the_largest_difference_from_eager(tmp_path):
    """`max abs diff`: the largest sample difference of a backend's output from eager's, computed here again from
    the same weights and mel (fp16 on the CPU differs enough that its mean difference is well below its max)."""
    from hifigan.inference.bench import bench_inputs, clone_generator, run_bench
    from hifigan.inference.vocoder import Vocoder
    from hifigan.models.generators import fold_norms

    cfg_path = tmp_path / "tiny.json"
    cfg_path.write_text(json.dumps(tiny_config("2").to_dict()))
    with threads(1):
        result = run_bench(str(cfg_path), seconds=0.256, repeats=1, backends=("eager", "eager:fp16"), threads=1,
                           memory=False, stream_chunk_frames=32)
        cfg, generator, mel = bench_inputs(str(cfg_path), 0.256)
        with torch.inference_mode():
            reference = fold_norms(clone_generator(generator, cfg).eval())(mel.unsqueeze(0))[0, 0]
        half = Vocoder(clone_generator(generator, cfg), cfg, "cpu", "eager", "fp16")
        half(mel)  # a first call, as the bench makes
        difference = (half(mel) - reference).abs()
    assert difference.max() > 2 * difference.mean()
    assert result["backends"][1]["max_abs_diff"] == pytest.approx(float(difference.max()), rel=1e-6)


def test_bench_streams_a_short_input_again_until_enough_chunks_are_timed(tmp_path, monkeypatch):
    """The reported case: 2 frames of tiny audio in 3-frame chunks is one chunk a pass, whose first run was the
    whole figure. Now one untimed pass runs first and the figure is over MIN_TIMED_CHUNKS timed chunks (two clock
    reads each), with the counts in the JSON and the summary line."""
    from hifigan.inference.bench import run_bench
    from hifigan.inference.bench_stream import MIN_TIMED_CHUNKS
    from hifigan.inference.bench_table import summary_lines

    cfg_path = tmp_path / "tiny.json"
    cfg_path.write_text(json.dumps(tiny_config("2").to_dict()))
    clock = _scripted_clock(monkeypatch, [0.5])  # the one eager run; every chunk then takes 1 ms
    with threads(1):
        result = run_bench(str(cfg_path), seconds=0.005, repeats=1, backends=("eager",), threads=1, memory=False,
                           stream_chunk_frames=3)
    stream = result["stream"]
    assert clock.calls == 2 + 2 * 2 * MIN_TIMED_CHUNKS  # one one-shot run; a pass: one chunk and its end
    assert (stream["timed_chunks"], stream["timed_passes"], stream["warm_up_passes"]) == (MIN_TIMED_CHUNKS,) * 2 + (1,)
    assert stream["per_chunk_ms_median"] == stream["per_chunk_ms_max"] == 1.0
    assert f"(over {MIN_TIMED_CHUNKS} chunks in {MIN_TIMED_CHUNKS} passes, after 1 untimed)" in summary_lines(result)[0]
