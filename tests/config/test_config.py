"""Config loading: built-in names, the official json files as they are, YAML, and errors that name the key (the
upsampling, residual and framing geometry's checks: test_config_geometry.py)."""

import json

import pytest

from hifigan.config import HifiganConfig, load_config
from hifigan.config.files import preset_path
from hifigan.errors import ConfigError
from hifigan.models import Generator
from tests.support.files import FIXTURES
from tests.support.tiny import tiny_config


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_official_json_equals_builtin(version):
    assert load_config(FIXTURES / f"config_{version}.json") == load_config(version)


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
        assert (c.mel_kwargs()["fmax"], c.mel_kwargs(for_loss=True)["fmax"]) == (8000, None)  # the loss: sr / 2
        assert (c.learning_rate, c.adam_b1, c.adam_b2, c.lr_decay) == (2e-4, 0.8, 0.99, 0.999)
        assert (c.batch_size, c.segment_size) == (16, 8192)
        assert c.loss_weights == {"mel": 45.0, "fm": 2.0, "adv": 1.0} and c.discriminators == ["mpd", "msd"]
        assert c.upsample_factor == 256


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_yaml_config(tmp_path, suffix):
    path = tmp_path / f"small{suffix}"
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
    values = json.loads((FIXTURES / "config_v1.json").read_text())
    values["upsample_rate"] = [8, 8, 2, 2]
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(values))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}: unknown config key 'upsample_rate' (did you mean 'upsample_rates'?)"
    values = {"sampling_rate": 22050, "zzz": 1}  # nothing like it: no guess
    path.write_text(json.dumps(values))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}: unknown config key 'zzz'"


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
        ({"upsample_initial_channel": 100}, "upsample_initial_channel must be divisible by 2 \\*\\* len"),  # 4 halvings
        *(({"audio_peak": v}, r"audio_peak must be a number") for v in (0, 1.5, True, "0.9")),
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


@pytest.mark.parametrize("name", ["v1", "v3"])
def test_a_folder_named_like_a_preset_does_not_hide_it(tmp_path, monkeypatch, name):
    """`hifigan vocode --out v1` makes such a folder; a folder is never a config, so the name stays the preset's."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).mkdir()
    assert load_config(name) == load_config(preset_path(name))
    (tmp_path / "mine").mkdir()
    with pytest.raises(ConfigError, match=r"^mine: is a directory"):  # a folder of another name is still an error
        load_config("mine")


def test_a_path_is_never_a_preset_name(tmp_path, monkeypatch):
    """A missing ../configs/v1 names a file, not the preset: hifigan/configs/../configs/v1.json is v1's file."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^\.\./configs/v1: no such config file or preset \(presets: "):
        load_config("../configs/v1")


@pytest.mark.parametrize("name", ["", "  "])
def test_an_empty_name_is_not_a_config(name):
    """Not `.: is a directory` (Path("") is the current folder)."""
    with pytest.raises(ConfigError, match=r"^config '\s*': an empty name is not a config \(a preset such as v1, or "
                                          r"a file\)$"):
        load_config(name)


def test_dataclass_default_is_v1():
    assert HifiganConfig() == load_config("v1")


def test_a_checkpoint_given_as_config_is_named_as_binary(tmp_path):
    """`--config runs/x/checkpoints/latest.pt` (a checkpoint carries its config) was refused with Python's codec
    message ("cannot read ('utf-8' codec can't decode byte 0x80 ...)"); the error now says what the file is not."""
    from hifigan.checkpoints.format import generator_payload, write_checkpoint

    cfg = tiny_config()
    write_checkpoint(tmp_path / "latest.pt", generator_payload(Generator(cfg).state_dict(), cfg, step=1))
    with pytest.raises(ConfigError) as caught:
        load_config(str(tmp_path / "latest.pt"))
    assert str(caught.value) == (f"{tmp_path / 'latest.pt'}: not a JSON or YAML config (a binary file: a checkpoint? "
                                 "a config is a preset name or a text file such as `hifigan configs --show NAME` "
                                 "prints)")


def test_an_edited_file_reads_as_its_editor_meant_or_says_where_it_is_wrong(tmp_path):
    """A preset copied and edited: a byte-order mark (Windows editors) and YAML anchors, merges and comments are
    read; a key given twice (the parsers would keep the last without a word), a tab in YAML and an empty file are
    one line naming the file and the key or the line."""
    v1 = (FIXTURES / "config_v1.json").read_text()
    (tmp_path / "bom.json").write_text("\ufeff" + v1, encoding="utf-8")
    assert load_config(tmp_path / "bom.json") == load_config("v1")
    (tmp_path / "merged.yaml").write_text("# fine-tune\nlearning_rate: 1.0e-5  # low\ndiscriminator_args:\n"
                                          "  mpd: &p {periods: [2, 3, 5]}\n  msd: {<<: {scales: 2}, scales: 3}\n")
    merged = load_config(tmp_path / "merged.yaml")
    assert merged.learning_rate == 1e-5 and merged.discriminator_args == {"mpd": {"periods": [2, 3, 5]},
                                                                         "msd": {"scales": 3}}
    bad = {"twice.json": (v1[:v1.rindex("}")] + ', "hop_size": 512}', "key 'hop_size' is given twice: keep one"),
           "twice.yaml": ("learning_rate: 1.0e-5\nbatch_size: 4\nlearning_rate: 2.0e-4\n",
                          "key 'learning_rate' is given twice (lines 1 and 3): keep one"),
           "inner.json": ('{"dist_config": {"world_size": 1, "world_size": 2}}', "key 'world_size' is given twice"),
           "tab.yaml": ("learning_rate: 1.0e-5\n\tbatch_size: 4\n",
                        "not valid YAML (line 2, column 1: found character '\\t' that cannot start any token)"),
           "empty.json": ("\n", "is empty, expected a mapping of config keys"),
           "list.yaml": ("- v1\n", "must contain a mapping of config keys, got a list"),
           "null.json": ("null\n", "must contain a mapping of config keys, got null")}
    for name, (text, said) in bad.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ConfigError) as e:
            load_config(tmp_path / name)
        assert str(e.value).startswith(f"{tmp_path / name}: {said}") and "\n" not in str(e.value), str(e.value)
