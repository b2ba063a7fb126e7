"""`hifigan mel` and `hifigan vocode` on real files: outputs equal the library computation."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from hifigan.audio import load_audio
from hifigan.cli import main
from hifigan.config import load_config
from hifigan.evaluation.spectral import mel_l1
from hifigan.mel import mel_spectrogram
from tests.support.cli_runs import run
from tests.support.files import CORPUS, REPO
from tests.support.official_files import official_tiny_files
from tests.support.official_reference import RefGenerator, reference_mel
from tests.support.tiny import tiny_config


def test_help_reads_like_a_manual(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("mel", "vocode"):
        assert command in out
    code, out, _ = run(capsys, "vocode", "--help")
    assert code == 0 and "--checkpoint" in out and "example" in out


def test_mel_command_matches_the_library(tmp_path):
    wav = CORPUS / "LJ001-0003.wav"
    assert main(["mel", str(wav), str(tmp_path / "m.npy"), "--config", "v1"]) == 0
    mel = np.load(tmp_path / "m.npy")
    audio = sf.read(wav, dtype="int16")[0].astype(np.float32) / 32768  # the official int16 scaling
    expected = mel_spectrogram(torch.from_numpy(audio)[None], **load_config("v1").mel_kwargs())[0].numpy()
    assert mel.dtype == np.float32 and mel.shape == (80, len(audio) // 256)
    np.testing.assert_array_equal(mel, expected)
    assert [p.name for p in tmp_path.iterdir()] == ["m.npy"]


def test_mel_with_resample(tmp_path):
    audio = load_audio(CORPUS / "LJ001-0002.wav")
    sf.write(tmp_path / "x16k.wav", audio[:16000], 16000, subtype="PCM_16")
    assert main(["mel", str(tmp_path / "x16k.wav"), str(tmp_path / "m.npy"), "--resample"]) == 0
    assert np.load(tmp_path / "m.npy").shape == (80, round(16000 * 22050 / 16000) // 256)


def test_vocode_official_checkpoint_on_audio_and_mels(tmp_path):
    cfg, ckpt, cfg_path = official_tiny_files(tmp_path)
    rng = np.random.default_rng(0)
    sf.write(tmp_path / "a.wav", (rng.standard_normal(1000) * 0.1).astype(np.float32), cfg.sampling_rate,
             subtype="PCM_16")
    np.save(tmp_path / "b.npy", rng.standard_normal((1, cfg.num_mels, 200)).astype(np.float32))
    out = tmp_path / "out"
    code = main(["vocode", "--checkpoint", str(ckpt), "--config", str(cfg_path), "--output-dir", str(out),
                 str(tmp_path / "a.wav"), str(tmp_path / "b.npy")])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.wav", "b.wav"]
    info = sf.info(out / "b.wav")
    assert (info.samplerate, info.subtype, info.frames) == (cfg.sampling_rate, "PCM_16", 200 * 16)
    assert_official_output(out / "b.wav", ckpt, cfg, torch.from_numpy(np.load(tmp_path / "b.npy")))
    # copy synthesis: 1000 samples -> 1000 // 16 frames -> 62 * 16 samples, the official mel of the int16 input
    recorded = torch.from_numpy(sf.read(tmp_path / "a.wav", dtype="int16")[0] / np.float32(32768))
    assert sf.info(out / "a.wav").frames == (1000 // 16) * 16
    assert_official_output(out / "a.wav", ckpt, cfg, reference_mel(recorded[None], **cfg.mel_kwargs()))


def assert_official_output(wav: Path, ckpt: Path, cfg, mel: torch.Tensor) -> None:
    """`wav` is what the official inference writes for `mel`: the independent reference generator's output,
    x * 32768 truncated toward zero and clipped. Our engines differ from it by float rounding, so a sample
    sitting on an integer boundary may land one step off (measured: 1 in 6400); rounding instead of
    truncating would change half of them."""
    reference = RefGenerator(cfg).eval()
    reference.load_state_dict(torch.load(ckpt, weights_only=True)["generator"])
    with torch.no_grad():
        x = reference(mel).reshape(-1).numpy()
    expected = np.clip(np.trunc(x.astype(np.float64) * 32768), -32768, 32767)
    got = sf.read(wav, dtype="int16")[0]
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= 1 and (got == expected).mean() > 0.99


def test_vocode_own_checkpoint_needs_no_config(tmp_path):
    from hifigan.checkpoints.format import generator_payload, write_checkpoint
    from hifigan.models import Generator

    cfg = tiny_config("2")
    write_checkpoint(tmp_path / "ours.pt", generator_payload(Generator(cfg).state_dict(), cfg))
    np.save(tmp_path / "m.npy", np.zeros((cfg.num_mels, 5), dtype=np.float32))
    assert main(["vocode", "-c", str(tmp_path / "ours.pt"), "-o", str(tmp_path / "o"), str(tmp_path / "m.npy")]) == 0
    assert sf.info(tmp_path / "o" / "m.wav").frames == 5 * 16
    # In a fresh process: mels in need no mel basis, whose librosa.filters imports scipy.signal (~1 s a command)
    code = ("import sys; from hifigan.cli import main; code = main(sys.argv[1:]); "
            "print(code, 'librosa.filters' in sys.modules, 'scipy.signal' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, "vocode", "-c", str(tmp_path / "ours.pt"), "-o",
                           str(tmp_path / "o2"), str(tmp_path / "m.npy")], capture_output=True, text=True, timeout=300)
    assert done.stdout.splitlines()[-1].split() == ["0", "False", "False"], done.stdout + done.stderr[-2000:]


def test_vocode_checks_every_input_before_writing(tmp_path, capsys):
    cfg, ckpt, cfg_path = official_tiny_files(tmp_path)
    np.save(tmp_path / "good.npy", np.zeros((cfg.num_mels, 5), dtype=np.float32))
    sf.write(tmp_path / "stereo.wav", np.zeros((800, 2), dtype=np.float32), cfg.sampling_rate)
    np.save(tmp_path / "bins.npy", np.zeros((cfg.num_mels + 1, 5), dtype=np.float32))
    for bad, problem in (("stereo.wav", "2 channels"), ("bins.npy", "bins")):
        out = tmp_path / f"out_{bad.replace('.', '_')}"  # not out_stereo.wav: vocode's -o is a folder's name
        code = main(["vocode", "-c", str(ckpt), "--config", str(cfg_path), "-o", str(out),
                     str(tmp_path / "good.npy"), str(tmp_path / bad)])
        assert code == 2
        err = capsys.readouterr().err
        assert bad in err and problem in err
        assert not out.exists()  # neither good.wav nor the folder was created before the bad input was found


def test_vocode_unknown_device_is_a_usage_error(tmp_path, capsys):
    cfg, ckpt, cfg_path = official_tiny_files(tmp_path)
    np.save(tmp_path / "m.npy", np.zeros((cfg.num_mels, 5), dtype=np.float32))
    assert main(["vocode", "-c", str(ckpt), "--config", str(cfg_path), "-o", str(tmp_path / "o"), "--device",
                 "tpu9", str(tmp_path / "m.npy")]) == 2
    assert "--device tpu9: not a device (accepted: cpu, cuda, cuda:N)" in capsys.readouterr().err


def test_vocode_evaluate_scores_copy_synthesis(tmp_path, capsys):
    cfg, ckpt, cfg_path = official_tiny_files(tmp_path)
    t = np.arange(4000) / cfg.sampling_rate
    sf.write(tmp_path / "tone.wav", (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), cfg.sampling_rate,
             subtype="PCM_16")
    out = tmp_path / "out"
    assert main(["vocode", "-c", str(ckpt), "--config", str(cfg_path), "-o", str(out), "--evaluate",
                 str(tmp_path / "tone.wav")]) == 0
    report = json.loads((out / "evaluation.json").read_text())
    assert (out / "evaluation.png").stat().st_size > 0
    generated = load_audio(out / "tone.wav")
    reference = load_audio(tmp_path / "tone.wav")[: len(generated)]
    [entry] = report["files"]
    assert entry["stem"] == "tone" and entry["reference"] == str(tmp_path / "tone.wav")
    assert entry["metrics"]["mel_l1"] == pytest.approx(mel_l1(reference, generated, cfg), rel=1e-6)
    assert report["summary"]["mel_l1"]["mean"] == entry["metrics"]["mel_l1"]
    lines = capsys.readouterr().out.strip().splitlines()
    assert any("mel L1" in line for line in lines[:-1])  # the table, then the one success line naming everything
    assert lines[-1].startswith(f"wrote 1 file ({len(generated) / cfg.sampling_rate:.1f} s of audio) to {out} in ")
    assert lines[-1].endswith(f"x real time, and {out / 'evaluation.json'}, {out / 'evaluation.png'}")


def test_vocode_evaluate_names_inputs_too_short_for_the_metrics_before_writing(tmp_path, capsys):
    """An input too short to be scored is a bad input of the up-front check (as in `evaluate`), not a failure after
    the WAVs are written: nothing is created."""
    from hifigan.evaluation.metrics import min_samples

    cfg, ckpt, cfg_path = official_tiny_files(tmp_path)
    needs = min_samples(cfg)
    for name, n in (("long.wav", 2 * needs), ("short.wav", needs // 2)):
        t = np.arange(n) / cfg.sampling_rate
        sf.write(tmp_path / name, (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), cfg.sampling_rate)
    out = tmp_path / "out"
    assert main(["vocode", "-c", str(ckpt), "--config", str(cfg_path), "-o", str(out), "--evaluate",
                 str(tmp_path / "long.wav"), str(tmp_path / "short.wav")]) == 2
    assert capsys.readouterr().err == (f"hifigan vocode: error: {tmp_path / 'short.wav'}: too short for --evaluate: "
                                       f"{needs // 2} samples, the metrics need at least {needs}\n")
    assert not out.exists()


def test_every_documented_backend_writes_the_official_output(tmp_path):
    """The manual's `--backend` list (docs/inference.md) is what the CLI accepts (an unknown name is a usage error),
    and every one of them writes what the official inference writes."""
    import re

    from hifigan.inference import BACKENDS
    from hifigan.inference.choices import device_backends

    documented = re.search(r"`--backend ([a-z|-]+)`", (REPO / "docs" / "inference.md").read_text()).group(1)
    assert tuple(documented.split("|")) == BACKENDS
    cfg, ckpt, cfg_path = official_tiny_files(tmp_path)
    mel = np.random.default_rng(1).standard_normal((cfg.num_mels, 150)).astype(np.float32) - 2
    np.save(tmp_path / "m.npy", mel)
    for backend in ("auto", *device_backends("cpu")):
        out = tmp_path / backend
        assert main(["vocode", "-c", str(ckpt), "--config", str(cfg_path), "-o", str(out), "--backend", backend,
                     str(tmp_path / "m.npy")]) == 0
        assert_official_output(out / "m.wav", ckpt, cfg, torch.from_numpy(mel)[None])
    with pytest.raises(SystemExit):
        main(["vocode", "-c", str(ckpt), "--config", str(cfg_path), "-o", str(tmp_path / "x"), "--backend", "tensorrt",
              str(tmp_path / "m.npy")])
