"""export_official still writes g_* files of models the official jik876/hifi-gan code loads otherwise (other mel
bins, odd kernel - rate), and says in one line each what that code will do with them; the official-style
generator of tests/support shows the difference is real."""

from __future__ import annotations

import dataclasses
import warnings

import pytest
import torch

from hifigan.checkpoints.export_official import export_official
from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.models import Generator
from tests.support.official_reference import RefGenerator
from tests.support.tiny import MELS_80, odd_rate_config, tiny_config

OFFICIAL_MEL = {"mel_convention": "official", "mel_floor": None, "mel_framing": "official", "mel_magnitude_eps": 1e-9}


def _export(cfg, tmp_path) -> tuple[dict, list[str]]:
    """cfg's generator exported: the g_* file's contents and the warnings said."""
    torch.manual_seed(0)
    write_checkpoint(tmp_path / "ours.pt", generator_payload(Generator(cfg).state_dict(), cfg, step=3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g_path = export_official(tmp_path / "ours.pt", tmp_path / "out")[0]
    return torch.load(g_path, weights_only=True), [str(w.message) for w in caught]


def test_odd_kernel_minus_rate_is_written_and_its_official_length_said(tmp_path):
    cfg = odd_rate_config("h300", channels=16, **OFFICIAL_MEL)  # pwg-24k's [5, 5, 4, 3] / [10, 10, 8, 6], 80 bins
    g_file, said = _export(cfg, tmp_path)
    assert said == ["g_00000003: the official code computes it otherwise: its upsampling padding (kernel - rate) "
                    "// 2 gives 3073 samples for 10 frames where this model gives 3000 (exact padding at the odd "
                    "kernel - rate 10 - 5, 10 - 5, 6 - 3: docs/sample-rates.md)"]
    official = RefGenerator(cfg).eval()
    official.load_state_dict(g_file["generator"])  # it loads: only the length (and alignment) differ
    with torch.no_grad():
        assert official(torch.randn(1, cfg.num_mels, 10)).shape[-1] == 3073


def test_other_mel_bins_are_written_and_the_failing_load_said(tmp_path):
    cfg = tiny_config("1", official_discriminators=True, resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5]])  # 16 bins
    g_file, said = _export(cfg, tmp_path)
    assert said == ["g_00000003: the official code cannot load it: its conv_pre takes 80 mel bins, this model 16 (a "
                    "fork that reads num_mels from the config can)"]
    with pytest.raises(RuntimeError, match="conv_pre"):
        RefGenerator(dataclasses.replace(cfg, **MELS_80)).load_state_dict(g_file["generator"])
    (tmp_path / "80").mkdir()
    assert _export(dataclasses.replace(cfg, **MELS_80), tmp_path / "80")[1] == []  # the official shape: silent


def test_another_input_mel_is_said_with_the_stats_the_file_loses(tmp_path):
    """pwg-24k's front-end (log10, centred frames, |X| without epsilon) normalised by mel_stats: the official
    inference.py would feed it official log-mels, and the g_* file keeps neither config nor statistics."""
    cfg = odd_rate_config("h300", channels=16, mel_stats={"mean": [-3.0] * 80, "std": [1.5] * 80})
    said = _export(cfg, tmp_path)[1]
    assert said[1:] == ["g_00000003: the official code computes its input mel otherwise: its inference.py and "
                        "training compute the official log-mel, not the model's mel (log10 (floor 1e-10) normalised "
                        "by mel_stats, centred frames, |X| without epsilon) (hifigan vocode reads the mel, its "
                        "mel_stats included, from the config.json beside it)"]


def test_another_input_mel_without_mel_stats_is_said_too(tmp_path):
    """The official log-mel at another |X| epsilon and no mel_stats: the line is said, without 'no mel_stats'."""
    cfg = tiny_config("1", **MELS_80, official_discriminators=True, resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5]],
                      mel_magnitude_eps=1e-5)
    assert _export(cfg, tmp_path)[1] == [
        "g_00000003: the official code computes its input mel otherwise: its inference.py and training compute the "
        "official log-mel, not the model's mel (official, epsilon 1e-05 under |X|) (hifigan vocode reads the mel "
        "from the config.json beside it)"]
