"""`hifigan evaluate`'s JSON records everything that decided its numbers: --resample and --mix-to-mono, how each
system's files and the recordings were stored (rate, channels) and so which were resampled from which rate or mixed
down, the ESTOI seed, and the versions of the packages that computed them."""

from __future__ import annotations

import importlib.metadata
import json
import math

import numpy as np
import pytest
import soundfile as sf

import hifigan
from hifigan.audio import save_audio
from hifigan.evaluation.evaluate import report_settings
from hifigan.evaluation.provenance import input_formats
from hifigan.evaluation.results import FileResult
from hifigan.evaluation.spectral import log_mel_cepstral_distortion
from tests.support.cli_runs import run
from tests.support.signals import speechlike, with_noise_at_snr
from tests.support.tiny import tiny_config


def test_resampled_and_mixed_systems_are_recorded_per_system(tmp_path, capsys):
    """Two systems against 22.05 kHz recordings: one at 24 kHz (resampled), one in stereo at 22.05 kHz (mixed to
    mono); each system's JSON says which of its files were resampled from which rate and which were mixed down."""
    ref, at24, stereo = (tmp_path / name for name in ("ref", "at24", "stereo"))
    for folder in (ref, at24, stereo):
        folder.mkdir()
    for i, stem in enumerate(["a", "b"]):
        x = speechlike(0.3, sr=22050, seed=i)
        save_audio(ref / f"{stem}.wav", x, 22050)
        save_audio(at24 / f"{stem}.wav", speechlike(0.3, sr=24000, seed=i), 24000)
        y = with_noise_at_snr(x, 20.0, seed=i).astype(np.float32)
        sf.write(stereo / f"{stem}.wav", np.stack([y, y], axis=1), 22050, subtype="PCM_16")
    code, _, err = run(capsys, "evaluate", "--reference", ref, "--system", f"up={at24}", "--system",
                       f"two={stereo}", "--resample", "--mix-to-mono", "--metrics", "snr,mel_l1", "--config",
                       "v1", "--out", f"{tmp_path}/report/", "--no-progress")
    assert code == 0, err
    up, two = (json.loads((tmp_path / "report" / f"evaluation-{name}.json").read_text()) for name in ("up", "two"))
    for report in (up, two):
        settings = report["settings"]
        assert (settings["resample"], settings["resampler"], settings["mix_to_mono"]) == (True, "soxr HQ", True)
        assert settings["inputs"]["reference"] == {"files": 2, "sampling_rates": {"22050": 2}, "channels": {"1": 2},
                                                   "resampled_from": {}, "mixed_to_mono": 0}
        assert settings["estoi_seed"] == 0 and settings["mcd_coefficients"] == 24
        versions = settings["versions"]
        assert versions["hifigan"] == hifigan.__version__
        assert versions["soxr"] == importlib.metadata.version("soxr")
        assert versions["torch"] == importlib.metadata.version("torch")
        assert set(versions) >= {"numpy", "scipy", "librosa", "soundfile", "pesq", "pystoi"}
    assert up["settings"]["inputs"]["generated"] == {"files": 2, "sampling_rates": {"24000": 2}, "channels": {"1": 2},
                                                     "resampled_from": {"24000": 2}, "mixed_to_mono": 0}
    assert two["settings"]["inputs"]["generated"] == {"files": 2, "sampling_rates": {"22050": 2},
                                                      "channels": {"2": 2}, "resampled_from": {}, "mixed_to_mono": 2}
    assert up["files"][0]["formats"] == {"reference": {"sampling_rate": 22050, "channels": 1},
                                         "generated": {"sampling_rate": 24000, "channels": 1}}
    assert two["files"][1]["formats"]["generated"] == {"sampling_rate": 22050, "channels": 2}


def test_options_off_are_recorded_as_off(folders, tmp_path, capsys):
    """Without the options the JSON says so: a reader tells a plain run from a resampled one."""
    ref, gen = folders
    code, _, err = run(capsys, "evaluate", "--reference", ref, "--system", gen, "--metrics", "snr",
                       "--out", f"{tmp_path}/plain.json", "--no-progress")
    assert code == 0, err
    settings = json.loads((tmp_path / "plain.json").read_text())["settings"]
    assert (settings["resample"], settings["mix_to_mono"]) == (False, False)
    assert settings["inputs"]["generated"]["resampled_from"] == {}
    assert settings["inputs"]["generated"]["sampling_rates"] == {"22050": 2}


def test_input_formats_count_only_files_read_from_disk_in_sorted_order():
    """A pair scored from memory (no formats) is not counted; rates and channel counts are listed in ascending order
    whatever order the files came in, and only the rates other than the config's count as resampled."""
    def pair(rate: int, channels: int) -> FileResult:
        stored = {"sampling_rate": rate, "channels": channels}
        return FileResult("s", "r.wav", "g.wav", 1.0, 0, {}, formats={"reference": stored, "generated": stored})

    files = [pair(48000, 2), pair(22050, 1), FileResult("m", "", "", 1.0, 0, {}), pair(16000, 2)]
    side = {"files": 3, "sampling_rates": {"16000": 1, "22050": 1, "48000": 1}, "channels": {"1": 1, "2": 2},
            "resampled_from": {"16000": 1, "48000": 1}, "mixed_to_mono": 2}
    summary = input_formats(files, 22050)
    assert summary == {"reference": side, "generated": side}
    assert [list(summary["reference"][k]) for k in ("sampling_rates", "channels")] == [
        ["16000", "22050", "48000"], ["1", "2"]]


@pytest.mark.parametrize(("num_mels", "compared"), [(80, 24), (25, 24), (24, 23), (16, 15)])
def test_mcd_coefficients_recorded_are_those_compared(num_mels, compared):
    """A mel of N < 25 bands has no c_24: MCD compares c_1..c_{N-1}, and the settings say so (they said 24, the
    default, whatever the mel). The MCD of the recorded count is the one computed: a difference in c_{N-1} alone
    counts (the last coefficient compared), one in c_N would not exist."""
    config = tiny_config(num_mels=num_mels, n_fft=256)
    assert report_settings(config, ["mcd"])["mcd_coefficients"] == compared
    w = np.pi * (2 * np.arange(num_mels) + 1) / (2 * num_mels)
    ref = np.full((num_mels, 3), -4.0)
    gen = ref + 2 * 0.1 * np.cos(compared * w)[:, None]  # c_compared differs by 0.1
    assert log_mel_cepstral_distortion(ref, gen, compared) == pytest.approx(10 / math.log(10) * math.sqrt(2) * 0.1)
