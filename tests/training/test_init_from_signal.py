"""--init-from weights into a run on another mel: one rule whichever way the weights are named (a pretrained name, an
official g_* file by its path): a config may change their signal settings (rate, mel, fmax), said in one line at the
start, and the run starts from exactly those weights; a config the weights' shapes do not fit stays refused."""

from __future__ import annotations

import pytest
import torch

from hifigan.checkpoints.format import read_checkpoint
from hifigan.checkpoints.official import official_to_ours
from hifigan.cli import main
from hifigan.config import config_from_dict
from tests.support.cli_runs import one_line
from tests.support.files import save_config_json, write_clips
from tests.support.official_files import official_tiny_files
from tests.support.pretrained_fake import register
from tests.support.tiny import tiny_config

QUIET = ["--no-progress", "--valid-count", "1", "--validation-interval", "0", "--max-steps", "0"]
ADAPT = "; the generator starts from its weights and will adapt to this run's mel"
pytestmark = pytest.mark.usefixtures("single_thread")


def _train(init, config, corpus, out) -> int:
    return main(["train", "--init-from", str(init), "--config", str(config), "--corpus", str(corpus), *QUIET,
                 "--out", str(out)])


def _started(out):
    return read_checkpoint(out / "checkpoints" / "latest.pt")


def _said(err: str, start: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(f"signal settings differ from {start}")]


def test_a_pretrained_name_starts_a_run_at_another_rate(tmp_path, monkeypatch, tiny80, capsys):
    """tiny-test (8 kHz) fine-tuned into 16 kHz, fmax 6000, by a file that sets only those: the run is in the model's
    config with those keys changed, from exactly its generator, and the change is said in one line."""
    register(tmp_path, monkeypatch, tiny80)
    corpus = tmp_path / "c16k"
    write_clips(corpus, 4, sampling_rate=16000)
    (tmp_path / "ft.yaml").write_text("sampling_rate: 16000\nfmax: 6000\n")
    assert _train("tiny-test", tmp_path / "ft.yaml", corpus, tmp_path / "run") == 0
    said = _said(capsys.readouterr().err, "--init-from tiny-test's")
    assert said == ["signal settings differ from --init-from tiny-test's: sampling_rate 16000 (the model's 8000), "
                    f"fmax 6000 (the model's None){ADAPT}"], said
    started = _started(tmp_path / "run")
    assert started["config"] == {**tiny80[0].to_dict(), "sampling_rate": 16000, "fmax": 6000}
    start = official_to_ours(tiny80[3])
    assert all(torch.equal(started["generator"][k], v) for k, v in start.items())


def test_a_null_that_follows_the_rate_is_not_said_again(tmp_path, monkeypatch, tiny80, capsys):
    """fmax null is half the rate: at another rate it changes with it, and the rate alone is said."""
    register(tmp_path, monkeypatch, tiny80)
    corpus = tmp_path / "c16k"
    write_clips(corpus, 4, sampling_rate=16000)
    (tmp_path / "ft.yaml").write_text("sampling_rate: 16000\n")
    assert _train("tiny-test", tmp_path / "ft.yaml", corpus, tmp_path / "run") == 0
    assert _said(capsys.readouterr().err, "--init-from tiny-test's") == [
        f"signal settings differ from --init-from tiny-test's: sampling_rate 16000 (the model's 8000){ADAPT}"]


@pytest.mark.parametrize(("values", "said"), [
    ("num_mels: 24\n", "num_mels is 24, the model has 80"),
    ("upsample_kernel_sizes: [16, 8]\n", "upsample_kernel_sizes is [16, 8], the model has [8, 8]"),
])
def test_a_pretrained_name_still_refuses_a_generator_it_cannot_fill(tmp_path, monkeypatch, tiny80, tiny_corpus,
                                                                    capsys, values, said):
    """Another number of mel bins, or another kernel shape: the existing one line."""
    register(tmp_path, monkeypatch, tiny80)
    (tmp_path / "ft.yaml").write_text(values)
    assert _train("tiny-test", tmp_path / "ft.yaml", tiny_corpus, tmp_path / "run") == 2
    assert one_line(capsys.readouterr().err) == (
        f"hifigan train: error: tiny-test: --config conflicts with the pretrained model's config "
        f"({tiny80[1]}): {said}")
    assert not (tmp_path / "run").exists()


def test_an_official_file_by_path_says_the_change_from_its_config_beside(tmp_path, tiny_corpus, capsys):
    """The same rule by path: an official g_* file given --config at another fmax starts the run and, with the
    config.json the official train.py wrote beside it, says what changed; without one nothing is known to say."""
    cfg, g_path, _ = official_tiny_files(tmp_path)
    other = save_config_json(tmp_path / "other.json", tiny_config("1", fmax=3000))
    assert _train(g_path, other, tiny_corpus, tmp_path / "run") == 0
    assert _said(capsys.readouterr().err, "--init-from") == []
    save_config_json(g_path.parent / "config.json", cfg)
    assert _train(g_path, other, tiny_corpus, tmp_path / "run2") == 0
    assert _said(capsys.readouterr().err, "--init-from") == [
        f"signal settings differ from --init-from {g_path}'s: fmax 3000 (the model's None){ADAPT}"]
    started = _started(tmp_path / "run2")
    assert started["config"]["fmax"] == 3000
    start = official_to_ours(torch.load(g_path, weights_only=True)["generator"])
    assert all(torch.equal(started["generator"][k], v) for k, v in start.items())


def _by_path(tmp_path, tiny80, values: dict):
    """tiny-test's own official file by its g_* path, its config.json beside, and a whole --config of its config with
    `values` changed: the same weights and change as by name."""
    folder = tmp_path / "official"
    folder.mkdir()
    (folder / "g_00000001").write_bytes(tiny80[2])
    save_config_json(folder / "config.json", tiny80[0])
    given = save_config_json(tmp_path / "whole.json", config_from_dict({**tiny80[0].to_dict(), **values}))
    return folder / "g_00000001", given


LAYOUTS = [
    ({"upsample_rates": [8, 2]}, "settings", "upsample_rates [8, 2] (the model's [4, 4])", "upsampling"),
    ({"resblock_dilation_sizes": [[1, 5], [1, 5]]}, "settings",
     "resblock_dilation_sizes [[1, 5], [1, 5]] (the model's [[1, 3], [1, 3]])", "dilations"),
    ({"upsample_rates": [8, 4], "hop_size": 32}, "settings",
     "upsample_rates [8, 4] (the model's [4, 4]), hop_size 32 (the model's 16)", "upsampling and mel"),
]


@pytest.mark.parametrize(("values", "what", "changed", "adapts"), LAYOUTS)
def test_strides_and_dilations_the_kernels_fit_start_from_the_weights_by_name_and_by_path(
        tmp_path, monkeypatch, tiny80, tiny_corpus, capsys, values, what, changed, adapts):
    """upsample_rates and resblock_dilation_sizes do not shape the weights: where the kernels fit the new strides (a
    hop the upsampling gives, the same or another), the run starts from exactly the weights whichever way they are
    named, and the change is said in one line."""
    register(tmp_path, monkeypatch, tiny80)
    (tmp_path / "ft.yaml").write_text("".join(f"{key}: {value}\n" for key, value in values.items()))
    g_path, whole = _by_path(tmp_path, tiny80, values)
    start = official_to_ours(tiny80[3])
    for init, config, out in (("tiny-test", tmp_path / "ft.yaml", "by_name"), (g_path, whole, "by_path")):
        assert _train(init, config, tiny_corpus, tmp_path / out) == 0, out
        said = [line for line in capsys.readouterr().err.splitlines() if " differ from --init-from" in line]
        assert said == [f"{what} differ from --init-from {init}'s: {changed}; the generator starts from its weights "
                        f"and will adapt to this run's {adapts}"], said
        started = _started(tmp_path / out)
        assert {key: started["config"][key] for key in values} == values
        assert all(torch.equal(started["generator"][k], v) for k, v in start.items()), out


def test_dilations_of_another_count_are_refused_by_name_and_by_path(tmp_path, monkeypatch, tiny80, tiny_corpus,
                                                                     capsys):
    """A third dilation per block is another set of convolutions the weights do not hold: refused by the loader
    either way, naming the file."""
    register(tmp_path, monkeypatch, tiny80)
    values = {"resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5]]}
    (tmp_path / "ft.yaml").write_text("".join(f"{key}: {value!r}\n" for key, value in values.items()))
    g_path, whole = _by_path(tmp_path, tiny80, values)
    for init, config, out in (("tiny-test", tmp_path / "ft.yaml", "by_name"), (g_path, whole, "by_path")):
        assert _train(init, config, tiny_corpus, tmp_path / out) == 2
        err = one_line(capsys.readouterr().err)
        assert err.startswith("hifigan train: error: ") and str(init) in err, err
        assert "does not fit" in err, err


def test_an_unreadable_config_beside_is_said_skipped(tmp_path, tiny_corpus, capsys):
    """A config.json beside the g_* file that is no config only words the settings line: the run starts, and one
    warning names the file and why it was skipped."""
    _, g_path, _ = official_tiny_files(tmp_path)
    other = save_config_json(tmp_path / "other.json", tiny_config("1", fmax=3000))
    (g_path.parent / "config.json").write_text('{"upsample_rates": [4, 4], "upsample_kernel_sizes": [8, 8], '
                                               '"hop_size": 32}')
    with pytest.warns(UserWarning) as caught:
        assert _train(g_path, other, tiny_corpus, tmp_path / "run") == 0
    warned = [str(w.message) for w in caught if "config.json" in str(w.message)]
    assert warned == [f"{g_path.parent / 'config.json'}: skipped (product of upsample_rates (16) != hop_size (32)): "
                      "a change of settings from the config the --init-from weights were trained in cannot be said"
                      ], warned
    assert _said(capsys.readouterr().err, "--init-from") == []
    assert (tmp_path / "run" / "checkpoints" / "latest.pt").is_file()
