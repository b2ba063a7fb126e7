"""A new generator is one class, one registration and one config key: `IstftGenerator`
(tests/support/istft_generator.py,
no layer description) is named in the config with its arguments (bad ones are one-line errors), trains,
checkpoints, resumes bit-exactly, loads through the registry, vocodes and exports to ONNX and TorchScript; official
files stay the HiFi-GAN generator's. (Its inference: test_generator_inference.py.)"""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
import torch
from torch import nn

from hifigan import TrainJob, TrainOptions, Vocoder, load_generator, train
from hifigan.checkpoints.format import generator_payload, read_checkpoint, write_checkpoint
from hifigan.cli import main
from hifigan.config import load_config
from hifigan.data.corpus import Corpus
from hifigan.errors import CheckpointError, ConfigError
from hifigan.models import Generator
from hifigan.models.generators import GENERATORS, build_generator, register_generator
from tests.support.files import equal_states
from tests.support.istft_generator import (
    FIELD,
    DeclaringIstftGenerator,
    IstftGenerator,
    istft_config,
    registered,
    seeded_mel,
)
from tests.support.threads import threads
from tests.support.tiny import tiny_config

pytestmark = [pytest.mark.usefixtures("single_thread"),
              pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")]


@pytest.fixture(autouse=True)
def _registered():
    with registered():
        yield


# ---------------------------------------------------------------- the config key and the registry


def test_the_config_names_the_generator_and_its_arguments():
    v1 = load_config("v1")  # official files have neither key
    assert (v1.generator, v1.generator_args) == ("hifigan", {})
    g = build_generator(istft_config(generator_args={"channels": 3, "blocks": 1}))
    assert type(g) is IstftGenerator and g.conv_pre.out_channels == 3 and len(g.convs) == 1
    assert type(build_generator(istft_config("istft-declared"))) is DeclaringIstftGenerator
    assert type(build_generator(tiny_config())) is Generator
    # The HiFi-GAN geometry checks are the HiFi-GAN generator's: another generator needs only its hop.
    other = tiny_config(generator="istft", hop_size=32, upsample_rates=[4, 4], segment_size=512, n_fft=64)
    assert other.hop_size == 32 and build_generator(other)(torch.randn(1, 16, 3)).shape == (1, 1, 96)
    with pytest.raises(ConfigError, match=r"product of upsample_rates \(16\) != hop_size \(32\)"):
        tiny_config(hop_size=32, segment_size=512)


@pytest.mark.parametrize(("values", "message"), [
    (dict(generator="nope"), "unknown generator 'nope' (known: hifigan, istft, istft-declared)"),
    (dict(generator="istft", generator_args={"width": 3}),
     "generator_args: unknown argument 'width' (known: channels, blocks)"),
    (dict(generator="istft", generator_args={"channels": 0}), "generator_args: channels must be an integer >= 1, "
                                                              "got 0"),
    (dict(generator="istft", hop_size=15, segment_size=480, n_fft=63, win_size=63),
     "generator_args: hop_size must be even, got 15"),
    (dict(generator_args={"channels": 8}), "generator_args: unknown argument 'channels' (known: none)"),
])
def test_a_bad_generator_name_or_argument_is_a_one_line_config_error(values, message):
    with pytest.raises(ConfigError) as info:
        build_generator(tiny_config(**values))
    assert str(info.value) == message


def test_a_name_names_one_generator():
    """The same factory again changes nothing; another one under a taken name is refused."""
    assert register_generator("istft", IstftGenerator) is IstftGenerator
    with pytest.raises(ValueError, match=r"^a generator named 'istft' is registered already$"):
        register_generator("istft", DeclaringIstftGenerator)
    assert GENERATORS["istft"] is IstftGenerator


def test_the_command_line_reports_a_bad_generator_in_one_line(tmp_path, tiny_corpus, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**tiny_config().to_dict(), "generator": "nope"}))
    code = main(["train", "--corpus", str(tiny_corpus), "--config", str(config), "--out", str(tmp_path / "run"),
                 "--max-steps", "1", "--no-progress", "--valid-count", "2"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "unknown generator 'nope'" in err and "Traceback" not in err


def test_checkpoints_without_the_key_hold_the_hifigan_generator(tmp_path):
    """Our checkpoints from before config.generator load as the HiFi-GAN generator, as they always did."""
    cfg = tiny_config()
    payload = generator_payload(Generator(cfg).state_dict(), cfg)
    del payload["config"]["generator"], payload["config"]["generator_args"]
    write_checkpoint(tmp_path / "old.pt", payload)
    generator, loaded = load_generator(tmp_path / "old.pt")
    assert type(generator) is Generator and loaded.generator == "hifigan"


# ---------------------------------------------------------------- training, checkpoints, vocoding, export


def _job(out, corpus, **kw) -> TrainJob:
    options = TrainOptions(out=out, deterministic=True, progress=False, validation_interval=2, checkpoint_interval=0,
                           log_interval=1)
    return TrainJob(options, Corpus(folder=corpus, valid_count=2), **kw)


@pytest.fixture(scope="module")
def istft_run(tmp_path_factory, tiny_corpus):
    """4 steps straight, and 2 steps resumed for 2 more (6 clips / batch 2: the resume is mid-epoch), one thread."""
    root = tmp_path_factory.mktemp("istft_run")
    cfg = istft_config(discriminators=["tiny_d"], disc_start_step=1)
    with threads(1), registered():
        straight = train(_job(root / "straight", tiny_corpus, config=cfg, max_steps=4))
        train(_job(root / "split", tiny_corpus, config=cfg, max_steps=2))
        resumed = train(TrainJob(TrainOptions(deterministic=True, progress=False, validation_interval=2,
                                              checkpoint_interval=0), resume=root / "split", max_steps=4))
    yield cfg, straight.checkpoint, resumed.checkpoint
    shutil.rmtree(root, ignore_errors=True)


def test_a_registered_generator_trains_and_resumes_bit_exactly(istft_run):
    cfg, straight, resumed = istft_run
    a, b = read_checkpoint(straight), read_checkpoint(resumed)
    assert (a["step"], a["epoch"], b["step"]) == (4, 1, 4)
    assert a["config"]["generator"] == "istft" and a["config"]["generator_args"] == {"channels": 8}
    assert a["generator"]["head.weight"].shape == (2 * 17, 8, 1) and "tiny_d" in a  # the iSTFT head: 17 bins
    for key in ("generator", "tiny_d", "optim_g", "optim_d", "sched_g", "sched_d"):
        assert equal_states(a[key], b[key]), key
    assert a["optim_d"]["state"], "the discriminator trained"
    fresh = build_generator(cfg).state_dict()
    assert not equal_states(a["generator"], fresh), "the generator trained"


def test_the_checkpoint_loads_through_the_registry_vocodes_and_exports(istft_run, tmp_path, capsys):
    _, checkpoint, _ = istft_run
    generator, loaded = load_generator(checkpoint)
    assert type(generator) is IstftGenerator and loaded.generator == "istft"
    mel = seeded_mel(23, dtype=torch.float32)
    with torch.inference_mode():
        expected = generator.eval()(mel[None])[0, 0]

    capsys.readouterr()
    with pytest.warns(RuntimeWarning) as caught:
        vocoder = Vocoder.from_checkpoint(checkpoint)
    assert [str(w.message) for w in caught] == ["backend auto: IstftGenerator has no layer description (layers()); "
                                                "running eager, receptive field 5 past + 5 future frames (measured)"]
    assert capsys.readouterr().err == ""
    assert vocoder.backend == "eager" and vocoder.receptive_field == FIELD and vocoder.hop_size == 16
    audio = vocoder(mel)
    assert audio.shape == (23 * 16,) and (audio - expected).abs().max() < 1e-5

    onnx_file, script_file = tmp_path / "g.onnx", tmp_path / "g.pt"
    assert main(["export", "-c", str(checkpoint), "--format", "onnx", "-o", str(onnx_file)]) == 0
    assert main(["export", "-c", str(checkpoint), "--format", "torchscript", "-o", str(script_file)]) == 0
    _check_exported(onnx_file, script_file, generator)

    # Official files hold the HiFi-GAN generator only: export-official refuses, and so does loading one as another.
    assert main(["export-official", "--checkpoint", str(checkpoint), "--out", str(tmp_path / "official")]) == 2
    assert "holds generator 'istft'; the official format holds the HiFi-GAN generator only" in capsys.readouterr().err
    assert not any((tmp_path / "official").glob("*"))
    with pytest.raises(CheckpointError, match=r"config=\.\.\. conflicts .*: generator is 'hifigan', the model has "
                                              r"'istft'"):
        load_generator(checkpoint, tiny_config())


def _check_exported(onnx_file, script_file, eager: nn.Module) -> None:
    """Both files compute the eager generator at every length and batch: [batch, frames x hop] (no channel axis)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    scripted = torch.jit.load(str(script_file))
    assert [i.name for i in session.get_inputs()] == ["mel"] and [o.name for o in session.get_outputs()] == ["audio"]
    for batch, frames in ((1, 1), (1, 7), (1, 50), (3, 19)):
        mel = seeded_mel(frames, batch=batch, seed=frames, dtype=torch.float32)
        with torch.inference_mode():
            expected, got_ts = eager(mel)[:, 0], scripted(mel)
        got_onnx = session.run(None, {"mel": mel.numpy()})[0]
        assert got_onnx.shape == tuple(got_ts.shape) == tuple(expected.shape) == (batch, frames * 16)
        assert np.abs(got_onnx - expected.numpy()).max() < 1e-4 and (got_ts - expected).abs().max() < 1e-4


def test_an_official_file_starts_only_the_hifigan_generator(tmp_path, tiny_corpus, official_tiny80):
    g_file, _ = official_tiny80
    cfg = istft_config(num_mels=80, n_fft=512, win_size=512, discriminators=["tiny_d"])
    message = "an official g_* file holds the HiFi-GAN generator only; the config names generator 'istft'"
    with pytest.raises(CheckpointError, match=re.escape(f"g_00000001: {message}")):
        load_generator(g_file, cfg)
    with pytest.raises(CheckpointError, match=re.escape(message)):
        train(_job(tmp_path / "run", tiny_corpus, config=cfg, init_from=g_file, max_steps=1))
    assert not list(tmp_path.rglob("*.pt"))
