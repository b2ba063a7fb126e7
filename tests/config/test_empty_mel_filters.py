"""A mel geometry whose filterbank has an empty filter (no FFT bin inside its triangle: a mel bin that is the floor
whatever the audio) is refused at load, naming the filters and what to change; librosa itself only warns."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from hifigan.config import load_config
from hifigan.config.files import preset_names
from hifigan.config.mel_filters import empty_filters, empty_filters_problem
from hifigan.errors import ConfigError
from hifigan.mel import MelSpectrogram
from hifigan.melconv.filterbank import slaney_basis
from tests.support.cli_runs import failed_cleanly, run, tone, wav
from tests.support.tiny import tiny_config

# (sampling_rate, n_fft, num_mels, fmin, fmax): the log region, the linear one, narrow bands, odd sizes and rates
GEOMETRIES = [
    (8000, 256, 160, 0, None), (8000, 256, 256, 0, None), (8000, 64, 80, 0, None), (8000, 64, 16, 0, 2000.0),
    (22050, 1024, 80, 1000, 1040), (22050, 1024, 80, 300, 310.5), (22050, 1024, 80, 0, 8000),
    (16000, 512, 128, 0, 8000), (24000, 2048, 80, 80, 7600), (48000, 2048, 256, 0, None),
    (11025, 500, 100, 40.5, 5000.25), (8001, 64, 16, 0, 4000.5), (44100, 128, 40, 999.0, 1001.0),
    (32000, 800, 200, 20, 16000),
]
EMPTY_160 = "5 of the 160 mel filters are empty (filters 0, 13, 28, 43, 58): no FFT bin falls inside them (the bins"


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_the_empty_filters_are_the_all_zero_rows_of_librosas_filterbank(geometry):
    sampling_rate, n_fft, num_mels, fmin, fmax = geometry
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # librosa's "Empty filters detected"
        basis = slaney_basis(sampling_rate, n_fft, num_mels, fmin, fmax)
    assert empty_filters(*geometry) == np.flatnonzero(basis.max(axis=1) == 0).tolist()


def _config(tmp_path, **values):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({**tiny_config().to_dict(), **values}))
    return path


def test_a_config_with_empty_mel_filters_is_refused_naming_them_and_the_fixes_load(tmp_path):
    path = _config(tmp_path, n_fft=256, num_mels=160)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    line = str(err.value)
    assert line.startswith(f"{path}: {EMPTY_160}"), line
    assert line.endswith("31.25 Hz apart at n_fft 256, sampling_rate 8000), so their mel bins are the floor whatever "
                         "the audio; use num_mels 149 or n_fft 512")
    for fix in ({"num_mels": 149}, {"n_fft": 512}):
        load_config(_config(tmp_path, **{"n_fft": 256, "num_mels": 160, **fix}))


def test_a_band_too_narrow_for_its_filters_says_to_widen_it(tmp_path):
    path = _config(tmp_path, num_mels=4, fmin=1000, fmax=1100)
    with pytest.raises(ConfigError, match=r"4 of the 4 mel filters are empty \(filters 0, 1, 2, 3\): .* use n_fft "
                                          r"256 or a wider band than fmin 1000 to fmax 1100 Hz$"):
        load_config(path)


def test_the_loss_mel_is_checked_too_and_named(tmp_path):
    path = _config(tmp_path, loss_args={"mel": {"num_mels": 160, "n_fft": 256}})
    with pytest.raises(ConfigError, match=r"the mel loss's STFT \(fmax_for_loss, loss_args\['mel'\]\): 5 of the 160 "):
        load_config(path)


def test_the_front_end_built_by_hand_refuses_them_too():
    with pytest.raises(ConfigError) as err:
        MelSpectrogram(n_fft=256, num_mels=160, sampling_rate=8000, hop_size=64, win_size=256, fmin=0, fmax=None)
    assert str(err.value).startswith(EMPTY_160)


def test_mel_with_empty_filters_writes_nothing(tmp_path, capsys):
    config = _config(tmp_path, n_fft=256, num_mels=160)
    out = tmp_path / "out"
    code, _, err = run(capsys, "mel", wav(tmp_path / "a.wav", tone(4000)), "-o", out / "a.npy", "--config", config)
    failed_cleanly(code, err, out, "c.json", EMPTY_160)


@pytest.mark.parametrize("name", preset_names())
def test_no_preset_has_an_empty_filter(name):
    config = load_config(name)
    for kwargs in (config.mel_kwargs(), config.mel_kwargs(for_loss=True)):
        assert empty_filters(*(kwargs[k] for k in ("sampling_rate", "n_fft", "num_mels", "fmin", "fmax"))) == []


def test_a_wider_band_is_not_offered_when_the_whole_band_leaves_filters_empty(tmp_path):
    # 160 filters at n_fft 256, 8 kHz leave 5 empty even from 0 Hz to Nyquist: widening 0-3900 Hz cannot fix them
    path = _config(tmp_path, n_fft=256, num_mels=160, fmax=3900)
    with pytest.raises(ConfigError, match=r"6 of the 160 mel filters are empty .* use num_mels 147 or n_fft 512$"):
        load_config(path)


# (geometry, how the refusal names the empty filters, the fixes it ends with): one filter (one fewer fills them), six
# named in full, the seventh counted, an n_fft 64 times over (the last doubling looked at), each side of a band
REFUSALS = [
    ((8000, 16, 9, 0, None), "1 of the 9 mel filters is empty (filter 0): no FFT bin falls inside it (",
     "so its mel bin is the floor whatever the audio; use num_mels 8 or n_fft 32"),
    ((8000, 16, 18, 0, None), "6 of the 18 mel filters are empty (filters 0, 1, 2, 5, 6, 9): ",
     "use num_mels 8 or n_fft 64"),
    ((8000, 16, 19, 0, None), "7 of the 19 mel filters are empty (filters 0, 1, 2, 5, 6, 9 and 1 more): ",
     "use num_mels 8 or n_fft 64"),
    ((8000, 16, 301, 0, None), "287 of the 301 mel filters are empty (filters 0, 1, 2, 3, 4, 5 and 281 more): ",
     "use num_mels 8 or n_fft 1024"),
    ((8000, 64, 8, 0, 500.0), "2 of the 8 mel filters are empty (filters 0, 7): ",
     "use num_mels 6 or n_fft 128 or a wider band than fmin 0 to fmax 500 Hz"),
    ((8000, 64, 8, 3500, None), "1 of the 8 mel filters is empty (filter 7): ",
     "use num_mels 7 or n_fft 128 or a wider band than fmin 3500 to fmax 4000 Hz"),
]


@pytest.mark.parametrize(("geometry", "named", "fixes"), REFUSALS)
def test_the_refusal_names_the_filters_and_the_nearest_fixes(geometry, named, fixes):
    line = empty_filters_problem(*geometry)
    assert line.startswith(named) and line.endswith(fixes), line
