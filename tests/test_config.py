"""Config loading: built-in names, the official json files as they are, YAML, and errors that name the key."""

import json
from pathlib import Path

import pytest

from hifigan.config import HifiganConfig, load_config
from hifigan.errors import ConfigError

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_official_json_equals_builtin(version):
    assert load_config(DATA / f"config_{version}.json") == load_config(version)


def test_builtin_hyperparameters_are_the_papers():
    v1, v2, v3 = load_config("v1"), load_config("v2"), load_config("V3")
    assert (v1.upsample_rates, v1.upsample_kernel_sizes) == ([8, 8, 2, 2], [16, 16, 4, 4])
    assert v1.upsample_initial_channel == 512
    assert v1.resblock == "1" and v1.resblock_kernel_sizes == [3, 7, 11]
    assert v1.resblock_dilation_sizes == [[1, 3, 5]] * 3
    assert v2.upsample_initial_channel == 128 and v2.resblock == "1"
    assert (v3.resblock, v3.upsample_rates, v3.upsample_kernel_sizes) == ("2", [8, 8, 4], [16, 16, 8])
    assert v3.resblock_kernel_sizes == [3, 5, 7] and v3.resblock_dilation_sizes == [[1, 2], [2, 6], [3, 12]]
    for c in (v1, v2, v3):
        assert (c.sampling_rate, c.n_fft, c.hop_size, c.win_size, c.num_mels) == (22050, 1024, 256, 1024, 80)
        assert (c.fmin, c.fmax, c.fmax_for_loss) == (0, 8000, None)
        assert (c.learning_rate, c.adam_b1, c.adam_b2, c.lr_decay) == (2e-4, 0.8, 0.99, 0.999)
        assert (c.batch_size, c.segment_size) == (16, 8192)
        assert c.loss_weights == {"mel": 45.0, "fm": 2.0, "adv": 1.0} and c.discriminators == ["mpd", "msd"]
        assert c.upsample_factor == 256


def test_yaml_config(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text("resblock: 2\nupsample_rates: [8, 8, 4]\nupsample_kernel_sizes: [16, 16, 8]\n"
                    "upsample_initial_channel: 64\nresblock_kernel_sizes: [3]\nresblock_dilation_sizes: [[1, 2]]\n"
                    "batch_size: 4\n")
    cfg = load_config(path)
    assert cfg.resblock == "2" and cfg.upsample_initial_channel == 64 and cfg.batch_size == 4
    assert cfg.resblock_dilation_sizes == [[1, 2]]


def test_round_trip_through_dict(tmp_path):
    cfg = load_config("v3")
    path = tmp_path / "c.json"
    path.write_text(json.dumps(cfg.to_dict()))
    assert load_config(path) == cfg


def test_unknown_key_is_named(tmp_path):
    values = json.loads((DATA / "config_v1.json").read_text())
    values["upsample_rate"] = [8, 8, 2, 2]
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(values))
    with pytest.raises(ConfigError, match="unknown config key 'upsample_rate'") as err:
        load_config(path)
    assert str(path) in str(err.value)


def test_unknown_key_in_dist_config_is_named(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"dist_config": {"backend": "gloo"}}))
    with pytest.raises(ConfigError, match="'backend'"):
        load_config(path)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"resblock": "3"}, "resblock must be"),
        ({"upsample_rates": [8, 8, 2]}, "differ in length"),
        ({"hop_size": 200}, "product of upsample_rates"),
        ({"segment_size": 8000}, "multiple of hop_size"),
        ({"resblock_kernel_sizes": [3, 7]}, "differ in length"),
    ],
)
def test_inconsistent_configs_are_rejected(tmp_path, values, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(values))
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.json")
    (tmp_path / "broken.json").write_text("{ not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(tmp_path / "broken.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(tmp_path / "list.json")
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_dataclass_default_is_v1():
    assert HifiganConfig() == load_config("v1")
