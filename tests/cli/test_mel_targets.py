"""`hifigan mel` as the maker of an acoustic model's training targets: the inputs it must never overwrite."""

from __future__ import annotations

import json

import numpy as np

from tests.support.cli_runs import BINS, SR, failed_cleanly, files_in, run, tone, wav


def test_mel_refuses_to_overwrite_the_configs_stats_file(tmp_path, capsys, monkeypatch, tiny_config_json):
    """A normalising config's mel_stats file (relative: read from the config's folder) was replaced by the mel, so
    the config then normalised by a [bins, frames] array: refused as the other inputs are."""
    stats = np.stack([np.full(BINS, -3.0), np.full(BINS, 2.0)])
    np.save(tmp_path / "stats.npy", stats)
    config = json.loads(tiny_config_json.read_text()) | {"mel_stats": "stats.npy", "mel_convention": "log10"}
    (tmp_path / "c.json").write_text(json.dumps(config))
    wav(tmp_path / "a.wav", tone(SR // 2))
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "mel", "a.wav", "-o", "./stats.npy", "--config", "c.json")
    line = failed_cleanly(code, err, tmp_path / "nothing", "stats.npy", "would overwrite the input mel stats")
    assert "the config's mel_stats" in line
    assert np.array_equal(np.load(tmp_path / "stats.npy"), stats)
    assert files_in(tmp_path) == ["a.wav", "c.json", "stats.npy"]
    code, _, err = run(capsys, "mel", "a.wav", "-o", "m.npy", "--config", "c.json", "-q")
    assert code == 0, err
    assert np.load(tmp_path / "m.npy").shape[0] == BINS
