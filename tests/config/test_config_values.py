"""Every config value is checked against its declared type and range at load (hifigan.config.checks): a typo is
one line naming the file and the key, never a crash inside training or a mel of 0 bins."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, get_type_hints

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.config import HifiganConfig, load_config
from hifigan.config.files import preset_names
from hifigan.config.stft_geometry import check_stft_geometry
from hifigan.config.values import integer, integers, number
from hifigan.errors import ConfigError
from hifigan.mel import MelSpectrogram
from tests.support.cli_runs import failed_cleanly, run, tone, wav
from tests.support.tiny import tiny_config

# (key, value, the message after "PATH: "), each on top of the official V1
BAD_VALUES: list[tuple[str, Any, str]] = [
    ("hop_size", 256.0, "hop_size must be an integer, got 256.0"),
    ("hop_size", "256", "hop_size must be an integer, got '256' (text, not a number"),
    ("n_fft", 1024.0, "n_fft must be an integer, got 1024.0"),
    ("num_mels", None, "num_mels must be an integer, got None"),
    ("num_mels", 0, "num_mels must be an integer >= 1, got 0"),
    ("num_mels", -80, "num_mels must be an integer >= 1, got -80"),
    ("batch_size", True, "batch_size must be an integer, got True"),
    ("batch_size", 0, "batch_size must be an integer >= 1, got 0"),
    ("sampling_rate", "22050", "sampling_rate must be an integer, got '22050'"),
    ("sampling_rate", 0, "sampling_rate must be an integer >= 1, got 0"),
    ("fmax", "8000", "fmax must be a number or null, got '8000'"),
    ("fmax", 12000, "fmax must be a number in (0, 11025], got 12000"),
    ("fmin", 9000, "fmax must be a number in (9000, 11025], got 8000"),
    ("fmin", -1, "fmin must be a number in [0, 11025), got -1"),
    ("fmax_for_loss", 12000, "the mel loss's STFT (fmax_for_loss, loss_args['mel']): fmax must be a number in "
                             "(0, 11025], got 12000"),
    ("loss_args", {"mel": {"num_mels": 0}}, "the mel loss's STFT (fmax_for_loss, loss_args['mel']): num_mels must "
                                            "be an integer >= 1, got 0"),
    ("loss_args", {"mel": {"bogus": 1}}, "loss_args['mel']: unknown argument 'bogus'"),
    ("win_size", 2048, "win_size (2048) must be at most n_fft (1024): the window fills one STFT frame"),
    ("hop_size", 2048, "hop_size (2048) must be at most win_size (1024)"),
    ("upsample_initial_channel", 0, "upsample_initial_channel must be an integer >= 1, got 0"),
    ("upsample_initial_channel", -16, "upsample_initial_channel must be an integer >= 1, got -16"),
    ("upsample_rates", [8.0, 8, 2, 2], "upsample_rates must be a list of integers, got [8.0, 8, 2, 2]"),
    ("resblock_kernel_sizes", [], "resblock_kernel_sizes must be a non-empty list of integers >= 1, got []"),
    ("resblock_dilation_sizes", [[1, 0, 5], [1, 3, 5], [1, 3, 5]],
     "resblock_dilation_sizes[0][1] must be an integer >= 1, got 0"),
    ("resblock_dilation_sizes", [[1, 3, 5], 3, [1, 3, 5]], "resblock_dilation_sizes must be a list of lists of "
                                                          "integers, got [[1, 3, 5], 3, [1, 3, 5]]"),
    ("learning_rate", -1, "learning_rate must be a number > 0, got -1"),
    ("learning_rate", 0, "learning_rate must be a number > 0, got 0"),
    ("learning_rate", math.nan, "learning_rate must be a number > 0, got nan"),
    ("adam_b1", 1.0, "adam_b1 must be a number in [0, 1), got 1.0"),
    ("lr_decay", 0, "lr_decay must be a number in (0, 1], got 0"),
    ("lr_decay", 1.5, "lr_decay must be a number in (0, 1], got 1.5"),
    ("num_workers", -1, "num_workers must be an integer >= 0, got -1"),
    ("disc_start_step", -1, "disc_start_step must be an integer >= 0, got -1"),
    ("num_freq", 0, "num_freq must be an integer >= 1, got 0"),
    ("adam_b2", 1.0, "adam_b2 must be a number in [0, 1), got 1.0"),
    ("seed", -1, "seed must be an integer >= 0, got -1"),  # numpy's generators take none below 0
    ("seed", 2**63, "seed must be an integer below 2**63, got 9223372036854775808"),  # torch's: the sampler adds epochs
    ("mel_magnitude_eps", -1e-9, "mel_magnitude_eps must be a number >= 0, got -1e-09"),
    ("dist_config", {"world_size": "2"}, "dist_config.world_size must be an integer, got '2'"),
    ("dist_config", {"world_size": 0}, "dist_config.world_size must be an integer >= 1, got 0"),
    ("dist_config", [1], "dist_config must be a mapping, got [1]"),
    ("discriminators", "mpd", "discriminators must be a list of strings, got 'mpd'"),
    ("discriminators", [], "discriminators must be a non-empty list of names"),
    ("discriminators", ["mpd", "mpd"], "discriminators lists a name twice: ['mpd', 'mpd']"),
    ("discriminator_args", {"mrd": {}}, "discriminator_args names 'mrd', which is not in discriminators ['mpd', "
                                        "'msd']"),
    ("generator", "", "generator must be a name, got ''"),
    ("loss_weights", {"mel": "45"}, "loss_weights must be a mapping of names to numbers, got {'mel': '45'"),
    ("loss_weights", {"mel": -1}, "loss_weights['mel'] must be a number >= 0, got -1"),
    ("mel_stats", 5, "mel_stats must be a string or a mapping or null, got 5"),
    ("mel_convention", "db-ref", "mel_convention 'db-ref' is unknown; choose from official, ln-floor"),
    ("mel_floor", 0, "mel_floor must be a number > 0 or null, got 0"),
    ("mel_floor", 1e-7, "mel_floor 1e-07 with mel_convention official: the official floor is 1e-5"),
    ("mel_framing", "centre", "mel_framing 'centre' is unknown; choose from official, center"),
    ("loss_args", {"mel": {"framing": "x"}}, "loss_args['mel']['framing'] 'x' is unknown; choose from official"),
    ("loss_args", {"mel": {"convention": "log10", "floor": 0}}, "loss_args['mel']['floor'] must be a number > 0 "
                                                                "or null, got 0"),
    ("loss_args", {"mel": {"convention": 3}}, "loss_args['mel']['convention'] must be a string, got 3"),
    ("loss_args", {"mel": {"magnitude_eps": -1}}, "loss_args['mel']['magnitude_eps'] must be a number >= 0, got -1"),
    ("recipe", {"commit": 1}, "recipe must be a mapping of names to strings, got {'commit': 1}"),
]


@pytest.mark.parametrize(("key", "value", "message"), BAD_VALUES, ids=[f"{k}={v!r}" for k, v, _ in BAD_VALUES])
def test_a_bad_value_is_one_line_naming_the_file_and_key(tmp_path, key, value, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({key: value}))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: {message}"), str(err.value)
    assert "\n" not in str(err.value)


def test_yaml_reads_1e_5_as_text_and_the_error_says_so(tmp_path):
    """PyYAML's resolver wants a dot in a float: `1e-5` is the string '1e-5'."""
    path = tmp_path / "c.yaml"
    path.write_text("mel_magnitude_eps: 1e-5\n")
    with pytest.raises(ConfigError, match=r"mel_magnitude_eps must be a number, got '1e-5' \(text, not a number: in "
                                          r"YAML write 1.0e-5"):
        load_config(path)
    path.write_text("mel_magnitude_eps: 1.0e-5\n")
    assert load_config(path).mel_magnitude_eps == 1e-5


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_and_an_int_where_a_float_is_declared_load(tmp_path, name):
    values = load_config(name).to_dict()
    values.update(learning_rate=1, fmin=0, adam_b1=0)  # JSON writes 1 for 1.0: an int is a number
    path = tmp_path / "c.json"
    path.write_text(json.dumps(values))
    assert load_config(path).learning_rate == 1


TEXT, FLAG = st.text(max_size=3), st.booleans()
WRONG = {  # by the declared type's spelling: JSON values that are not of it
    "int": st.floats(allow_nan=False) | TEXT | FLAG | st.just([1]) | st.none(),
    "float": TEXT | FLAG | st.just([1.0]) | st.just({}) | st.none(),
    "float | None": TEXT | FLAG | st.just([1.0]),
    "str": st.integers() | st.floats(allow_nan=False) | FLAG | st.just([]) | st.none(),
    "list[int]": TEXT | st.just([1.5]) | st.just(["8"]) | st.just([True]) | st.just({}),
    "list[list[int]]": st.just([1]) | st.just([[1.0]]) | st.just("x") | st.just([["1"]]),
    "list[str]": st.just("mpd") | st.just([1]) | st.just({}),
    "dict[str, float]": st.just({"mel": "45"}) | st.just({"mel": None}) | st.just([1]) | TEXT,
    "dict[str, dict[str, typing.Any]]": st.just({"mpd": 1}) | st.just({"mpd": []}) | st.just([]) | TEXT,
    "dict[str, str]": st.just({"commit": 1}) | st.just(["x"]) | TEXT,
}


DECLARED = {f.name: get_type_hints(HifiganConfig)[f.name] for f in dataclasses.fields(HifiganConfig)}
SPELLING = {key: hint.__name__ if isinstance(hint, type) else repr(hint) for key, hint in DECLARED.items()}
CHECKED = sorted(key for key in DECLARED if SPELLING[key] in WRONG and key != "resblock")  # resblock: str(1) is "1"


def test_every_declared_type_has_wrong_values_to_try():
    """A field of a type WRONG lacks would go untried: only these are left out, each checked elsewhere."""
    assert set(DECLARED) - set(CHECKED) == {"resblock", "dist_config", "generator_args", "mel_stats"}


@settings(max_examples=120, deadline=None)
@given(data=st.data(), key=st.sampled_from(CHECKED))
def test_any_value_of_the_wrong_type_is_refused_naming_its_key(tmp_path_factory, data, key):
    value = data.draw(WRONG[SPELLING[key]])
    path = tmp_path_factory.mktemp("c") / "c.json"
    path.write_text(json.dumps({key: value}))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: {key}"), str(err.value)


def test_the_mel_front_end_checks_its_own_geometry():
    """Library users who build the front-end themselves get the same check as a config."""
    args = dict(n_fft=64, num_mels=16, sampling_rate=8000, hop_size=16, win_size=64, fmin=0, fmax=None)
    assert MelSpectrogram(**args).num_frames(160) == 10
    for bad, message in [({"num_mels": 0}, "num_mels must be an integer >= 1, got 0"),
                         ({"hop_size": 128}, r"hop_size \(128\) must be at most win_size \(64\)"),
                         ({"fmin": 5000}, r"fmin must be a number in \[0, 4000\), got 5000")]:
        with pytest.raises(ConfigError, match=f"^{message}"):
            MelSpectrogram(**{**args, **bad})


def _corpus(folder: Path) -> Path:
    folder.mkdir()
    for i in range(4):
        wav(folder / f"c{i}.wav", tone(8000 + 800 * i))
    return folder


@pytest.mark.parametrize(("values", "message"), [
    ({"num_mels": 0}, "num_mels must be an integer >= 1, got 0"),
    ({"hop_size": "16"}, "hop_size must be an integer, got '16'"),
    ({"learning_rate": 0}, "learning_rate must be a number > 0, got 0"),
])
def test_train_with_a_bad_value_writes_no_run_folder(tmp_path, capsys, values, message):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({**tiny_config().to_dict(), **values}))
    run_dir = tmp_path / "run"
    code, _, err = run(capsys, "train", "--corpus", _corpus(tmp_path / "corpus"), "--config", config, "-o", run_dir,
                       "--max-steps", "1", "--device", "cpu")
    failed_cleanly(code, err, run_dir, "c.json", message)


def test_mel_with_zero_mels_writes_nothing(tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({**tiny_config().to_dict(), "num_mels": 0}))
    out = tmp_path / "out"
    code, _, err = run(capsys, "mel", wav(tmp_path / "a.wav", tone(4000)), "-o", out / "a.npy", "--config", config)
    failed_cleanly(code, err, out, "c.json", "num_mels must be an integer >= 1, got 0")


def test_yaml_keys_that_are_not_names_are_refused(tmp_path):
    """YAML reads `1:` as the integer 1: a mapping of names wants string keys, not only string values."""
    path = tmp_path / "c.yaml"
    path.write_text("recipe:\n  1: abc\n")
    with pytest.raises(ConfigError, match=r"recipe must be a mapping of names to strings, got \{1: 'abc'\}"):
        load_config(path)


def test_an_odd_sampling_rate_has_a_nyquist_of_half_a_hertz_more():
    """fmin < fmax <= sampling_rate / 2, a true division: 8001 Hz reaches 4000.5 Hz."""
    check_stft_geometry(64, 2, 8001, 16, 64, 3800, 4000.5)  # 2 filters: n_fft 64's bins are 125 Hz apart
    with pytest.raises(ValueError, match=r"^fmax must be a number in \(0, 4000.5\], got 4000.75$"):
        check_stft_geometry(64, 16, 8001, 16, 64, 0, 4000.75)


def _in_interval(value: Any, low: float, high: float | None, low_open: bool, high_open: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return False
    above = value > low if low_open else value >= low
    below = high is None or (value < high if high_open else value <= high)
    return above and below


@settings(max_examples=400, deadline=None)
@given(value=st.one_of(st.integers(-4, 4), st.floats(-4, 4), st.sampled_from([math.inf, -math.inf, math.nan]),
                       st.booleans()),
       low=st.integers(-2, 2), width=st.none() | st.integers(0, 2), low_open=st.booleans(), high_open=st.booleans())
def test_number_takes_exactly_the_finite_reals_of_its_interval(value, low, width, low_open, high_open):
    high = None if width is None else low + width
    if _in_interval(value, low, high, low_open, high_open):
        got = number("x", value, low, high, low_open=low_open, high_open=high_open)
        assert type(got) is float and got == value
    else:
        with pytest.raises(ValueError, match=r"^x must be a number "):
            number("x", value, low, high, low_open=low_open, high_open=high_open)


@pytest.mark.parametrize("value", [True, False, 3.0, 2.5, "3", None, math.inf])
def test_integer_refuses_bools_floats_and_text(value):
    with pytest.raises(ValueError, match=r"^n must be an integer >= 0, got "):
        integer("n", value, 0)
    with pytest.raises(ValueError, match=r"^n\[1\] must be an integer >= 0, got "):
        integers("n", [1, value], 0)


def test_integer_takes_numpy_integers_and_integers_takes_a_tuple():
    import numpy as np

    got = integer("n", np.int64(7), 7)
    assert type(got) is int and got == 7
    assert integers("n", (1, 2, np.int32(3)), 1) == (1, 2, 3)
    assert integers("n", [4], 1) == (4,)
