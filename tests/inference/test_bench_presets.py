"""`hifigan bench --presets`: one row per preset (its fastest backend other than eager), the threads its runs used,
and the package's preset read, not a file of the preset's name in the current folder."""

from __future__ import annotations

import json

import torch

from hifigan.cli import main
from hifigan.config import load_config
from hifigan.models import Generator
from tests.support.threads import threads
from tests.support.tiny import tiny_config


def test_bench_presets_gives_one_row_per_preset(tmp_path, capsys):
    """`hifigan bench --presets`: each preset at its own rate and hop (random weights), eager and the other backends,
    one row each; an unknown preset is one line, before anything is timed."""
    out = tmp_path / "presets.json"
    assert main(["bench", "--presets", "v3", "pwg-24k", "--seconds", "0.1", "--repeats", "1", "--backends",
                 "eager,fused", "--threads", "1", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["machine"]["threads"] == 1  # the runs', not the caller's
    runs = {run["preset"]: run for run in result["presets"]}
    assert list(runs) == ["v3", "pwg-24k"]
    assert (runs["pwg-24k"]["sampling_rate"], runs["pwg-24k"]["hop_size"]) == (24000, 300)
    v3_params = sum(p.numel() for p in Generator(load_config("v3")).parameters())  # weight norm's g included
    assert runs["pwg-24k"]["audio_seconds"] == 0.1 and runs["v3"]["parameters"] == v3_params
    assert {r["backend"] for r in runs["pwg-24k"]["backends"]} == {"eager", "fused"}
    table = capsys.readouterr().out.splitlines()
    # 0.1 s is 8 whole frames at pwg-24k's 24 kHz hop 300, and 9 (0.104 s) at v3's 22.05 kHz hop 256
    assert table[0].startswith("a random mel of the whole frames nearest 0.1 s per preset (audio s), random weights")
    assert table[1].split()[:5] == ["preset", "rate", "hop", "audio", "s"]
    assert runs["v3"]["audio_seconds"] == 0.104 and table[2].split()[:4] == ["v3", "22050", "256", "0.104"]
    eager = runs["pwg-24k"]["backends"][0]
    assert table[3].split()[:6] == ["pwg-24k", "24000", "300", "0.100", "12.99", f"{eager['x_real_time']:.2f}"]
    assert main(["bench", "--presets", "v9", "--seconds", "0.2", "-o", str(tmp_path / "new" / "x.json")]) == 2
    assert "no preset 'v9'" in capsys.readouterr().err


def test_preset_rows_keep_the_fastest_backend_other_than_eager():
    from hifigan.inference.bench_presets import HEADER, preset_rows

    def row(name, x_rt, speedup):
        return {"backend": name, "x_real_time": x_rt, "speedup_vs_eager": speedup}

    run = {"preset": "v3", "sampling_rate": 22050, "hop_size": 256, "audio_seconds": 0.496, "parameters": 1_460_000,
           "stream": {"algorithmic_latency_ms": 12.3},
           "backends": [row("eager", 10.0, 1.0), row("fused", 25.0, 2.5), row("tiled", 15.0, 1.5)]}
    cells = dict(zip(HEADER, preset_rows({"presets": [run]})[0]))
    assert cells == {"preset": "v3", "rate": "22050", "hop": "256", "audio s": "0.496", "params M": "1.46",
                     "eager x RT": "10.00", "backend": "fused", "x RT": "25.00", "speedup": "2.50",
                     "look-ahead ms": "12.3"}


def test_preset_bench_records_the_threads_of_its_runs(tmp_path):
    """The caller at 2 threads, the runs at 1: the machine record says 1, and the caller's 2 come back."""
    from hifigan.inference.bench_presets import run_preset_bench

    cfg_path = tmp_path / "tiny.json"
    cfg_path.write_text(json.dumps(tiny_config("2").to_dict()))
    with threads(2):
        result = run_preset_bench([str(cfg_path)], 0.064, 1, ("eager",), 1)
        assert torch.get_num_threads() == 2
    assert result["machine"]["threads"] == 1 and result["presets"][0]["hop_size"] == 16


def test_preset_bench_times_the_package_preset_not_a_file_of_its_name(tmp_path, monkeypatch):
    """A file named `v3` in the current folder (a user's own config) is not the preset v3: --presets benchmarks the
    package's file, as `hifigan configs` and evaluate's preset choice read it (config.load_preset)."""
    from hifigan.config import load_preset
    from hifigan.inference.bench_presets import run_preset_bench
    from hifigan.models.generators import build_generator

    (tmp_path / "v3").write_text(json.dumps(tiny_config("2").to_dict()))  # hop 16, a few hundred weights
    monkeypatch.chdir(tmp_path)
    with threads(1):
        result = run_preset_bench(["v3"], 0.012, 1, ("eager",), 1)
    v3 = load_preset("v3")
    with torch.device("meta"):
        params = sum(p.numel() for p in build_generator(v3).parameters())
    run = result["presets"][0]
    assert (run["config"], run["hop_size"], run["parameters"]) == ("v3", v3.hop_size, params)


def test_bench_presets_checks_the_package_preset_not_a_file_of_its_name(tmp_path, monkeypatch, capsys):
    """The up-front check of --presets reads the preset as the run will (config.load_preset): a broken file named
    `v3` in the current folder is not what it checks, so the one-line error is the first real problem (here -o's)."""
    (tmp_path / "v3").write_text("{not json")
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "--presets", "v3", "-o", str(tmp_path / "out.txt")]) == 2
    err = capsys.readouterr().err
    assert "out.txt" in err and "v3" not in err.replace(str(tmp_path), ""), err
