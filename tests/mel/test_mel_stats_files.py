"""Per-bin statistics that cannot normalise a model's mels (--mel-stats, a config's mel_stats: a stats.h5, stats.npy
or .npz of the wrong shape, non-finite, a zero std, unreadable, of another convention, wrong in one way) are one
error naming the file and its problem."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from hifigan.errors import ConfigError, MelError
from hifigan.melconv.stats import load_stats
from tests.support.mel_cases import with_stats


def _write(path: Path, kind: str, mean: np.ndarray, std: np.ndarray) -> None:
    if kind == "h5":
        with h5py.File(path, "w") as f:
            f.create_dataset("mean", data=mean)
            f.create_dataset("scale", data=std)
    elif kind == "npy":
        np.save(path, np.stack([mean, std]))
    else:
        np.savez(path, mean=mean, std=std)


@pytest.mark.parametrize("kind", ["h5", "npy", "npz"])
@pytest.mark.parametrize(("bad", "message"), [
    ("bins", r"has shape \(79,\), the model has 80 mel bins"),
    ("nan", r"non-finite"),
    ("zero", r"'std' must be > 0"),
])
def test_bad_statistics_are_one_line_errors_naming_the_file(tmp_path, kind, bad, message):
    mean, std = np.zeros(80), np.ones(80)
    if bad == "bins":
        mean, std = mean[:79], std[:79]
    elif bad == "nan":
        mean[3] = np.nan
    else:
        std[7] = 0.0
    path = tmp_path / f"stats.{kind}"
    _write(path, kind, mean, std)
    with pytest.raises(MelError, match=message) as e:
        with_stats("pwg-24k", str(path))
    assert e.value.path == str(path) and "\n" not in str(e.value)


def test_unreadable_or_mismatched_statistics(tmp_path):
    garbage = tmp_path / "stats.h5"
    garbage.write_bytes(b"not hdf5 at all" * 10)
    with pytest.raises(MelError, match="not a readable statistics file") as e:
        with_stats("pwg-24k", str(garbage))
    assert e.value.path == str(garbage)
    with h5py.File(tmp_path / "mean_only.h5", "w") as f:
        f.create_dataset("mean", data=np.zeros(80))
    with pytest.raises(MelError, match="missing \\['scale'\\]"):
        with_stats("pwg-24k", str(tmp_path / "mean_only.h5"))
    np.savez(tmp_path / "official.npz", mean=np.zeros(80), std=np.ones(80), convention="official")
    with pytest.raises(MelError, match="statistics of official mels, but the model's mel_convention is log10"):
        with_stats("pwg-24k", str(tmp_path / "official.npz"))
    with pytest.raises(MelError, match="no such statistics file"):
        with_stats("pwg-24k", str(tmp_path / "missing.h5"))
    with pytest.raises(ConfigError, match=r"mel_stats: 'std' has shape \(3,\)"):
        with_stats("pwg-24k", {"mean": [0.0] * 80, "std": [1.0, 1.0, 1.0]})


STATS_FILES = {  # --mel-stats files that are wrong in one way each, and what load_stats says of them
    "pwg.npy": ("[3, 80] zeros", "a Parallel WaveGAN stats.npy is [2, num_mels] (mean, scale), got (3, 80)"),
    "convention.npz": ("mean std convention",
                       "convention 'linear-power': the normalised mel must be one of official, ln-floor, log10, "
                       "ln-power, log10-power, db"),
    "words.npz": ("mean=words std", "'mean' must be numbers"),
    "espnet_words.npz": ("count=words sum sum_square", "'count', 'sum' and 'sum_square' must be numbers"),
    "flat.npz": ("min max=min", "'max' must be above 'min' in every bin"),
    "mean_only.npz": ("mean", "needs 'mean' and 'std', or 'min' and 'max'"),
}


@pytest.mark.parametrize("name", list(STATS_FILES))
def test_a_statistics_file_wrong_in_one_way_is_one_mel_error_naming_it(tmp_path, name):
    """Each is a MelError naming the file and its problem; words where numbers belong were a bare ValueError
    ('could not convert string to float') naming nothing."""
    path, zeros, words = tmp_path / name, np.zeros(80), np.array(["a"] * 80)
    arrays = {"mean": zeros, "std": zeros + 1, "min": zeros, "max": zeros, "convention": "linear-power",
              "count": "x", "sum": zeros, "sum_square": zeros, "words": words}
    if name.endswith(".npy"):
        np.save(path, np.zeros((3, 80)))
    else:
        given = [key.split("=") for key in STATS_FILES[name][0].split()]
        np.savez(path, **{key[0]: arrays[key[-1]] for key in given})
    with pytest.raises(MelError) as e:
        load_stats(path, 80)
    assert (e.value.path, e.value.problem) == (str(path), STATS_FILES[name][1])


@pytest.mark.parametrize(("stats", "error", "problem"), [
    ({"mean": [0.0] * 80, "std": [1.0] * 80, "scale": [1.0] * 80}, ConfigError,
     "mel_stats: unknown keys ['scale'] (give 'mean' and 'std', or a statistics file)"),
    ("minmax.npz", MelError, "mel_stats: needs per-bin 'mean' and 'std' (a model normalises by mean and std only)"),
])
def test_a_models_mel_stats_must_be_a_mean_and_std(tmp_path, stats, error, problem):
    np.savez(tmp_path / "minmax.npz", min=np.zeros(80), max=np.ones(80))
    with pytest.raises(error) as e:
        with_stats("pwg-24k", str(tmp_path / stats) if isinstance(stats, str) else stats)
    assert e.value.problem == problem
