"""hifigan.inference.standalone, the numpy + onnxruntime deployment script of docs/export.md: from an exported
file's facts alone it computes the model's mel (every front-end convention, both framings) and vocodes a WAV as
`hifigan vocode` does."""

import subprocess
import sys

import numpy as np
import onnxruntime as ort
import pytest
import soundfile as sf
import torch

from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.cli import main
from hifigan.inference import standalone
from hifigan.inference.export_facts import input_facts
from hifigan.mel import MelSpectrogram
from hifigan.melconv.conventions import FRONT_END
from hifigan.models import Generator
from tests.support.signals import speechlike
from tests.support.tiny import tiny_config

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")

_RNG = np.random.default_rng(5)
STATS = {"mean": (_RNG.standard_normal(16) - 4).tolist(), "std": (_RNG.random(16) + 0.5).tolist()}


@pytest.mark.parametrize("convention", FRONT_END)
@pytest.mark.parametrize("framing, eps, stats", [("official", 1e-9, None), ("center", 0.0, STATS)])
def test_mel_from_facts_is_the_model_mel(convention, framing, eps, stats):
    """Each front-end convention (a floor of its own for ln-floor), framing, epsilon and mel_stats: the same frames
    and values as the package's front-end in float64 (a one-frame shift or a wrong floor is off by far more)."""
    floor = 1e-7 if convention == "ln-floor" else None
    extra = {} if stats is None or convention.startswith("linear") else {"mel_stats": stats}
    config = tiny_config(mel_convention=convention, mel_framing=framing, mel_magnitude_eps=eps, mel_floor=floor,
                         win_size=48, fmin=50, **extra)  # a window shorter than n_fft is centred in it
    audio = speechlike(0.25, sr=config.sampling_rate, seed=1)
    audio[:300] = 0  # silence: the floor shows
    expected = MelSpectrogram(**config.mel_kwargs())(audio.astype(np.float64)).numpy()
    got = standalone.log_mel(audio, input_facts(config))
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("overrides", [{}, dict(mel_convention="log10", mel_framing="center", mel_magnitude_eps=0.0,
                                                mel_stats=STATS)])
def test_script_vocodes_a_wav_as_hifigan_vocode(tmp_path, overrides):
    """The script run alone (python FILE model.onnx in.wav out.wav) writes what `hifigan vocode` writes from the
    checkpoint, to one int16 step; its float audio is eager's on the package's mel to float32 rounding."""
    config = tiny_config(**overrides)
    torch.manual_seed(0)
    ckpt = tmp_path / "tiny.pt"
    write_checkpoint(ckpt, generator_payload(Generator(config).state_dict(), config))
    wav = tmp_path / "in.wav"
    sf.write(wav, speechlike(0.5, sr=config.sampling_rate, seed=2), config.sampling_rate, subtype="PCM_16")
    assert main(["export", "-c", str(ckpt), "-o", str(tmp_path / "g.onnx"), "-q"]) == 0
    assert main(["vocode", "-c", str(ckpt), "-o", str(tmp_path / "ref"), str(wav), "-q"]) == 0
    script = subprocess.run([sys.executable, "-I", standalone.__file__, str(tmp_path / "g.onnx"), str(wav),
                             str(tmp_path / "out.wav")], capture_output=True, text=True, timeout=60)
    assert script.returncode == 0, script.stderr
    got, rate = sf.read(tmp_path / "out.wav", dtype="int16")
    expected, _ = sf.read(tmp_path / "ref" / "in.wav", dtype="int16")
    frames = 250 + (config.mel_framing == "center")  # 4000 samples, hop 16: T / hop frames, 1 + T / hop centred
    assert rate == config.sampling_rate and got.shape == expected.shape == (frames * 16,)
    assert np.abs(got.astype(int) - expected).max() <= 1

    session = ort.InferenceSession(str(tmp_path / "g.onnx"), providers=["CPUExecutionProvider"])
    audio = standalone.read_wav(str(wav), config.sampling_rate)
    ours = session.run(None, {"mel": standalone.log_mel(audio, session.get_modelmeta().custom_metadata_map)[None]})
    generator = Generator(config)
    generator.load_state_dict(torch.load(ckpt, weights_only=True)["generator"])
    with torch.inference_mode():
        eager = generator.eval()(MelSpectrogram(**config.mel_kwargs())(torch.from_numpy(audio))[None])[0, 0]
    assert np.abs(ours[0][0] - eager.numpy()).max() < 1e-5


def test_script_refuses_a_file_without_facts(tmp_path, tiny_cfg):
    """An export written without its config (export_generator(..., config=None)) says so in one line."""
    from hifigan.inference.export import export_generator

    torch.manual_seed(0)
    export_generator(Generator(tiny_cfg).eval(), "onnx", tmp_path / "bare.onnx")
    script = subprocess.run([sys.executable, "-I", standalone.__file__, str(tmp_path / "bare.onnx"), "in.wav",
                             "out.wav"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert script.returncode == 1 and script.stderr.strip().endswith("records no mel facts (exported before they "
                                                                     "were recorded: export it again)")
    assert not (tmp_path / "out.wav").exists()
