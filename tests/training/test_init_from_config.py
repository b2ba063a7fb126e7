"""--init-from a model that carries its config (a checkpoint of ours, a pretrained name) with --config: the keys the
file sets lay over the model's own config, one that would change the weights is refused, and another mel is said;
an official g_* file carries none, so there --config is the whole config."""

from __future__ import annotations

import json

import pytest
import torch

from hifigan.checkpoints.format import read_checkpoint
from hifigan.cli import main
from tests.support.cli_runs import one_line, refused_after_scan
from tests.support.files import save_config_json
from tests.support.official_files import official_tiny_files
from tests.support.tiny import tiny_config

QUIET = ["--no-progress", "--valid-count", "2", "--log-interval", "1", "--validation-interval", "0"]
pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_corpus):
    """A checkpoint of ours from 2 real training steps of the tiny (non-V1: 8 kHz, hop 16, 16 bins) config."""
    folder = tmp_path_factory.mktemp("trained")
    config_json = save_config_json(folder / "tiny.json", tiny_config())
    assert main(["train", "--config", str(config_json), "--corpus", str(tiny_corpus), *QUIET,
                 "--disc-start-step", "1000000", "--max-steps", "2", "--out", str(folder / "run")]) == 0
    return folder / "run" / "checkpoints" / "latest.pt"


def _start(checkpoint, config, corpus, out) -> int:
    return main(["train", "--init-from", str(checkpoint), "--config", str(config), "--corpus", str(corpus), *QUIET,
                 "--max-steps", "0", "--out", str(out)])


@pytest.mark.parametrize(("change", "said"), [
    ({"fmax": 3000}, "fmax 3000 (the model's None)"),
    ({"sampling_rate": 16000}, "sampling_rate 16000 (the model's 8000)"),
])
def test_a_full_config_with_another_mel_starts_from_the_weights(trained, tiny_corpus, tmp_path, capsys, change,
                                                               said):
    """A whole config whose mel differs from the checkpoint's fine-tunes its generator into that mel (a pretrained
    name and an official file do the same: test_init_from_signal): from exactly its weights, said in one line."""
    full = save_config_json(tmp_path / "full.json", tiny_config(**change))
    assert main(["train", "--init-from", str(trained), "--config", str(full), "--corpus", str(tiny_corpus), *QUIET,
                 "--resample", "--max-steps", "0", "--out", str(tmp_path / "run")]) == 0
    assert (f"signal settings differ from --init-from {trained}'s: {said}; the generator starts from its weights "
            "and will adapt to this run's mel") in capsys.readouterr().err.splitlines()
    source = read_checkpoint(trained)
    started = read_checkpoint(tmp_path / "run" / "checkpoints" / "latest.pt")
    assert started["config"] == tiny_config(**change).to_dict()  # the whole config given
    assert all(started["generator"][k].equal(v) for k, v in source["generator"].items())


def test_a_full_config_that_changes_training_settings_only_is_taken(trained, tiny_corpus, tmp_path):
    full = save_config_json(tmp_path / "full.json", tiny_config(learning_rate=1e-5, batch_size=3))
    assert _start(trained, full, tiny_corpus, tmp_path / "run") == 0
    config = read_checkpoint(tmp_path / "run" / "checkpoints" / "latest.pt")["config"]
    assert config["learning_rate"] == 1e-5 and config["batch_size"] == 3


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_the_documented_partial_config_keeps_the_models_own_config(trained, tiny_corpus, tmp_path, suffix):
    """docs/training.md's recipe (`learning_rate: 0.00001` in a file of its own) on a non-V1 checkpoint of ours:
    the run is in the checkpoint's config with that one key changed, starting from its generator."""
    partial = tmp_path / f"finetune{suffix}"
    partial.write_text("learning_rate: 0.00001\n" if suffix == ".yaml" else json.dumps({"learning_rate": 1e-5}))
    assert _start(trained, partial, tiny_corpus, tmp_path / "run") == 0
    source = read_checkpoint(trained)
    started = read_checkpoint(tmp_path / "run" / "checkpoints" / "latest.pt")
    assert started["config"] == {**source["config"], "learning_rate": 1e-5}
    assert all(started["generator"][k].equal(v) for k, v in source["generator"].items())


def test_a_partial_config_that_changes_the_model_is_refused(trained, tiny_corpus, tmp_path, capsys):
    partial = tmp_path / "finetune.yaml"
    partial.write_text("learning_rate: 0.00001\nnum_mels: 24\n")
    assert _start(trained, partial, tiny_corpus, tmp_path / "run") == 2
    assert "--config conflicts with the checkpoint's config: num_mels is 24, the model has 16" in one_line(
        capsys.readouterr().err)
    assert not (tmp_path / "run").exists()


def test_a_preset_name_sets_every_key(trained, tiny_corpus, tmp_path, capsys):
    assert _start(trained, "v1", tiny_corpus, tmp_path / "run") == 2
    assert "--config conflicts with the checkpoint's config: " in one_line(capsys.readouterr().err)


def test_a_legacy_loss_weight_key_changes_that_weight_only(trained, tiny_corpus, tmp_path):
    partial = tmp_path / "finetune.yaml"
    partial.write_text("lambda_mel: 30\n")
    assert _start(trained, partial, tiny_corpus, tmp_path / "run") == 0
    source = read_checkpoint(trained)["config"]["loss_weights"]
    assert read_checkpoint(tmp_path / "run" / "checkpoints" / "latest.pt")["config"]["loss_weights"] == {
        **source, "mel": 30}


def test_a_partial_config_is_checked_over_the_model_not_over_v1(trained, tiny_corpus, tmp_path):
    """segment_size 160 is 10 hops of the tiny model (hop 16) and no whole number of V1's (hop 256): the file's keys
    are checked once laid over the model's config, as they will be used."""
    partial = tmp_path / "segment.yaml"
    partial.write_text("segment_size: 160\n")
    assert _start(trained, partial, tiny_corpus, tmp_path / "run") == 0
    config = read_checkpoint(tmp_path / "run" / "checkpoints" / "latest.pt")["config"]
    assert config["segment_size"] == 160 and config["hop_size"] == 16


def test_the_model_line_says_an_official_g_file_carries_no_config(tmp_path, tiny_corpus, capsys):
    """An official g_* file has no config to lay --config over: the model line names the config as the job's alone,
    not `config X over --init-from g_*'s`, which read as if the file had given the rest."""
    (tmp_path / "official").mkdir()
    _, g_path, config_json = official_tiny_files(tmp_path / "official")
    assert _start(g_path, config_json, tiny_corpus, tmp_path / "run") == 0
    model = [line for line in capsys.readouterr().err.splitlines() if line.startswith("model: ")]
    assert model and model[0].endswith(f"; config {config_json} (--init-from {g_path} is an official g_* file, "
                                       "which carries no config)"), model
    beside = g_path.parent / "config.json"  # no --config: the official config.json beside the file is the config
    beside.write_text(config_json.read_text())
    assert main(["train", "--init-from", str(g_path), "--corpus", str(tiny_corpus), *QUIET, "--max-steps", "0",
                 "--out", str(tmp_path / "run2")]) == 0
    model = [line for line in capsys.readouterr().err.splitlines() if line.startswith("model: ")]
    assert model and model[0].endswith(f"; config {beside} (--init-from {g_path} is an official g_* file, which "
                                       "carries no config: the config.json beside it)"), model



def test_the_model_line_says_a_bare_state_dict_is_one(tmp_path, tiny_corpus, capsys):
    """A generator's bare state dict carries no config either, and is no official g_* file: the model line says
    what it is."""
    (tmp_path / "official").mkdir()
    _, g_path, config_json = official_tiny_files(tmp_path / "official")
    torch.save(torch.load(g_path, weights_only=True)["generator"], bare := tmp_path / "bare.pt")
    assert _start(bare, config_json, tiny_corpus, tmp_path / "run") == 0
    model = [line for line in capsys.readouterr().err.splitlines() if line.startswith("model: ")]
    assert model and model[0].endswith(f"; config {config_json} (--init-from {bare} is a generator's bare state "
                                       "dict, which carries no config)"), model

@pytest.mark.parametrize("bare", [False, True])
def test_a_generator_that_does_not_fit_names_the_config_it_was_read_with(tmp_path, tiny_corpus, capsys, bare):
    """An official g_* file or a bare state dict of another width: the one line names the file and the --config
    file, as vocode and export name them."""
    (tmp_path / "official").mkdir()
    _, g_path, _ = official_tiny_files(tmp_path / "official")
    if bare:
        torch.save(torch.load(g_path, weights_only=True)["generator"], g_path := tmp_path / "bare.pt")
    other = save_config_json(tmp_path / "other.json", tiny_config("1", upsample_initial_channel=16))
    code = _start(g_path, other, tiny_corpus, tmp_path / "run")
    line = refused_after_scan(code, capsys.readouterr().err, tmp_path / "run")
    assert line == (f"hifigan train: error: {g_path}: generator does not fit the config {other}: "
                    "upsample_initial_channel is 16, the weights take 32 (conv_pre.bias (32,) vs (16,)) "
                    f"({tmp_path / 'run' / 'scan-cache.npz'} kept: the next try reads only the files changed since)")
