"""`hifigan mel` as the maker of an acoustic model's training targets: the inputs it must never overwrite, and the
model `-c` must name."""

from __future__ import annotations

import json

import numpy as np
import pytest

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


def test_mel_of_a_normalising_checkpoint_uses_the_stats_it_stores(tmp_path, capsys, tiny_config_json):
    """`mel -c CKPT`: the targets of the model a checkpoint holds, normalised by the statistics stored in it, so the
    statistics file the config named is not needed any more; the same values as `--config` with that file."""
    from hifigan.checkpoints.format import generator_payload, write_checkpoint
    from hifigan.config import load_config
    from hifigan.models import Generator
    from hifigan.training.job import inline_mel_stats

    mean, std = np.linspace(-4.0, -2.0, BINS), np.linspace(0.5, 1.5, BINS)
    np.save(tmp_path / "stats.npy", np.stack([mean, std]))
    values = json.loads(tiny_config_json.read_text()) | {"mel_stats": "stats.npy", "mel_convention": "log10"}
    (tmp_path / "c.json").write_text(json.dumps(values))
    config = inline_mel_stats(load_config(tmp_path / "c.json"))  # as `hifigan train` stores it
    write_checkpoint(tmp_path / "g.pt", generator_payload(Generator(config).state_dict(), config))
    clip = wav(tmp_path / "a.wav", tone(SR // 2))
    assert run(capsys, "mel", clip, "-o", tmp_path / "cfg.npy", "--config", tmp_path / "c.json", "-q")[0] == 0
    (tmp_path / "stats.npy").unlink()
    code, _, err = run(capsys, "mel", clip, "-o", tmp_path / "ckpt.npy", "-c", tmp_path / "g.pt", "-q")
    assert code == 0, err
    normalised = np.load(tmp_path / "ckpt.npy")
    assert np.array_equal(normalised, np.load(tmp_path / "cfg.npy"))
    values["mel_stats"] = None
    (tmp_path / "raw.json").write_text(json.dumps(values))
    assert run(capsys, "mel", clip, "-o", tmp_path / "raw.npy", "--config", tmp_path / "raw.json", "-q")[0] == 0
    raw = np.load(tmp_path / "raw.npy")
    np.testing.assert_allclose(normalised, (raw - mean[:, None]) / std[:, None], rtol=1e-5, atol=1e-5)


def _not_a_generator(tmp_path, kind: str):
    """(checkpoint, --config arguments, what is said) for a file that holds no generator."""
    import torch

    from hifigan.checkpoints.format import generator_payload, write_checkpoint
    from hifigan.models import Generator
    from tests.support.tiny import tiny_config

    path = tmp_path / "bad.pt"
    if kind == "ours without a generator":
        write_checkpoint(path, {k: v for k, v in generator_payload(Generator(tiny_config()).state_dict(),
                                                                   tiny_config()).items() if k != "generator"})
        return path, [], "bad.pt: checkpoint holds no generator"
    torch.save({"weights": torch.zeros(3)}, path)  # a dict of tensors: read as a bare state dict, not a generator's
    return path, ["--config", "v1"], ("bad.pt: holds a bare state dict of 1 tensor under weights.*, not a HiFi-GAN "
                                      "generator's (conv_pre, ups, resblocks, conv_post)")


@pytest.mark.parametrize("kind", ["ours without a generator", "not ours, with --config"])
@pytest.mark.parametrize("command", ["mel", "check-mel"])
def test_mel_and_check_mel_refuse_a_checkpoint_that_holds_no_generator(tmp_path, capsys, good_mel, command, kind):
    """-c names the model whose mel is meant: a file holding none (an official do_* file's kind, a checkpoint without
    its generator) was taken for its config alone, and mel wrote targets for no model. Refused as vocode refuses it."""
    ckpt, config, said = _not_a_generator(tmp_path, kind)
    clip = wav(tmp_path / "a.wav", tone(SR // 2))
    out = tmp_path / "out"
    args = [clip, "-o", out / "m.npy"] if command == "mel" else [good_mel]
    code, _, err = run(capsys, command, *args, "-c", ckpt, *config)
    failed_cleanly(code, err, out, said)
