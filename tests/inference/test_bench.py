"""`hifigan bench`: the table and JSON of every backend against eager, one row per preset, and bad options refused
in one line before anything is timed or written."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from hifigan.cli import main
from hifigan.config import load_config
from hifigan.models import Generator
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


def test_bench_presets_gives_one_row_per_preset(tmp_path, capsys):
    """`hifigan bench --presets`: each preset at its own rate and hop (random weights), eager and the other backends,
    one row each; an unknown preset is one line, before anything is timed."""
    out = tmp_path / "presets.json"
    assert main(["bench", "--presets", "v3", "pwg-24k", "--seconds", "0.2", "--repeats", "1", "--backends",
                 "eager,fused", "--threads", "1", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["machine"]["threads"] == 1  # the runs', not the caller's
    runs = {run["preset"]: run for run in result["presets"]}
    assert list(runs) == ["v3", "pwg-24k"]
    assert (runs["pwg-24k"]["sampling_rate"], runs["pwg-24k"]["hop_size"]) == (24000, 300)
    v3_params = sum(p.numel() for p in Generator(load_config("v3")).parameters())  # weight norm's g included
    assert runs["pwg-24k"]["audio_seconds"] == 0.2 and runs["v3"]["parameters"] == v3_params
    assert {r["backend"] for r in runs["pwg-24k"]["backends"]} == {"eager", "fused"}
    table = capsys.readouterr().out.splitlines()
    assert table[1].split()[:4] == ["preset", "rate", "hop", "params"]
    eager = runs["pwg-24k"]["backends"][0]
    assert table[3].split()[:5] == ["pwg-24k", "24000", "300", "12.99", f"{eager['x_real_time']:.2f}"]
    assert main(["bench", "--presets", "v9", "--seconds", "0.2", "-o", str(tmp_path / "new" / "x.json")]) == 2
    assert "no preset 'v9'" in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "words"), [
    (["--config", "nope"], "nope: no such config file or preset"),
    (["--pretrained", "lj-v2"], "unknown pretrained model 'lj-v2'"),
    (["--presets", "v9"], "no preset 'v9'"),
    (["--seconds", "nan"], "--seconds, --repeats, --threads and --stream-chunk-frames must be positive"),
    (["--seconds", "inf"], "--seconds, --repeats, --threads and --stream-chunk-frames must be positive"),
    (["--stream-memory-minutes", "-1"], "--stream-memory-minutes must be 0 (skip) or more, got -1.0"),
    (["-o", "new/"], "new/: names a folder; -o is the JSON file to write"),
])
def test_bench_refuses_bad_options_before_making_its_output_folder(tmp_path, capsys, flags, words):
    out = tmp_path / "new"
    output = [] if "-o" in flags else ["-o", str(out / "x.json")]
    flags = [f"{tmp_path}/{f}" if f == "new/" else f for f in flags]
    assert main(["bench", *flags, *output]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1 and not out.exists(), err
