"""Every preset (src/hifigan/configs) at its own rate, hop and mel, with tiny generator channels: exactly frames x hop
samples on every engine (ONNX and the exported files included; the -split wrappers at one preset), float64
stream/batch/split equal to one-shot eager, two training steps on bundled speech resampled to the preset's rate, and
a vocode round trip through the CLI."""

from __future__ import annotations

import copy
import functools
import itertools
import json
import re
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import soundfile as sf
import torch

from hifigan import Trainer, TrainOptions
from hifigan.audio import load_audio
from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.cli import main
from hifigan.config import HifiganConfig, config_from_dict, load_config
from hifigan.config.files import preset_names
from hifigan.data.clip_scan import scan_clips
from hifigan.data.corpus import Corpus
from hifigan.inference.choices import device_backends
from hifigan.inference.export import export_generator
from hifigan.inference.vocoder import Vocoder
from hifigan.mel import MelSpectrogram
from hifigan.models import Generator
from hifigan.models.generators import fold_norms
from tests.support.files import CORPUS, SHORTEST_CLIPS
from tests.support.threads import two_threads
from tests.support.tiny import narrow_discriminators

PRESETS = preset_names()
pytestmark = pytest.mark.usefixtures("single_thread")


@functools.cache
def tiny(name: str) -> HifiganConfig:
    """The preset with 2 channels in its last stage (rates, kernels, blocks and mel kept), segments of 8 frames,
    and narrow MPD and MSD (tests/support/tiny.py's widths; the preset's periods and pooling kept)."""
    values = load_config(name).to_dict()
    values.update(upsample_initial_channel=2 ** (len(values["upsample_rates"]) + 1),
                  segment_size=8 * values["hop_size"], batch_size=1, num_workers=0)
    return config_from_dict(narrow_discriminators(values))


@functools.cache
def weights(name: str) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return Generator(tiny(name)).state_dict()


@functools.cache
def _folded(name: str, dtype: torch.dtype) -> Generator:
    g = Generator(tiny(name)).to(dtype)
    g.load_state_dict(weights(name))
    return fold_norms(g)


def generator(name: str, dtype: torch.dtype = torch.float32) -> Generator:
    """A fresh copy of the preset's generator, weight norm folded (the same function; a copy costs a fifth of
    building one, which a Vocoder or an export would fold anyway)."""
    return copy.deepcopy(_folded(name, dtype))


def mel(name: str, frames: int, dtype: torch.dtype = torch.float32, seed: int = 0) -> torch.Tensor:
    cfg = tiny(name)
    return torch.randn(cfg.num_mels, frames, dtype=dtype, generator=torch.Generator().manual_seed(seed)) - 4


# On one thread (single_thread) a -split backend runs every input whole, on the engine of its name without -split
# (`auto` is tiled-split): the engines are tried at every preset, the -split wrappers at one (the odd-rate preset).
SPLIT_PRESET = "audiosr-48k"


@pytest.mark.parametrize("name", PRESETS)
def test_every_backend_and_export_gives_frames_times_hop(name, tmp_path):
    cfg, frames = tiny(name), 7
    x = mel(name, frames)
    expected = frames * cfg.hop_size
    backends = [b for b in ("auto", *device_backends("cpu")) if name == SPLIT_PRESET or not b.endswith("-split")]
    assert SPLIT_PRESET in PRESETS and len(backends) >= 7
    for backend in backends:
        vocoder = Vocoder(generator(name), cfg, backend=backend)
        assert vocoder(x).shape == (expected,), backend
        assert [len(a) for a in vocoder.batch([x, x[:, :3]])] == [expected, 3 * cfg.hop_size], backend
        assert vocoder.chunked(x, 2).shape == (expected,), backend
    onnx_file, script_file = tmp_path / "g.onnx", tmp_path / "g.pt"
    export_generator(generator(name), "onnx", onnx_file)
    export_generator(generator(name), "torchscript", script_file)
    audio = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"]).run(None, {"mel": x[None].numpy()})
    assert audio[0].shape == (1, expected)  # [batch, samples], as Vocoder gives a batch
    assert torch.jit.load(str(script_file))(x[None]).shape == (1, expected)


@pytest.mark.parametrize("name", PRESETS)
def test_stream_batch_and_split_equal_one_shot_in_float64(name):
    """The claim of tests/inference/test_exactness.py at every preset's geometry (1e-14 of one-shot eager)."""
    cfg = tiny(name)
    reference = generator(name, torch.float64).eval().remove_weight_norm()
    vocoder = Vocoder(generator(name, torch.float64), cfg, backend="eager")
    field = vocoder.receptive_field
    frames = 2 * (field.left + field.right) + 9
    x = mel(name, frames, torch.float64, seed=1)
    with torch.inference_mode():
        expected = reference(x[None])[0, 0]
    scale = 0.1 / float(expected.std())  # the output at speech level, so that rounding stays far below 1e-14 of it
    sizes = [5, 1, 2, 13, 3, 40]
    bounds = list(itertools.takewhile(lambda b: b < frames, itertools.accumulate(itertools.cycle(sizes))))
    chunks = [x[:, a:b] for a, b in itertools.pairwise([0, *bounds, frames])]
    assert scale * (torch.cat(list(vocoder.stream(iter(chunks)))) - expected).abs().max() < 1e-14
    short = [x[:, :frames - 4], x[:, :5]]
    with torch.inference_mode():
        alone = [reference(m[None])[0, 0] for m in short]
    for got, want in zip(vocoder.batch(short), alone):
        assert got.shape == want.shape and scale * (got - want).abs().max() < 1e-14
    with two_threads():
        split = Vocoder(generator(name, torch.float64), cfg, backend="fused-split")
    long = mel(name, 2 * (4 * (field.left + field.right) + 1) + 5, torch.float64, seed=2)
    with torch.inference_mode():
        assert scale * (split(long) - reference(long[None])[0, 0]).abs().max() < 1e-14


@pytest.fixture(scope="module")
def clips_at(tmp_path_factory):
    """name -> a folder of the 3 shortest bundled LJSpeech clips resampled to that preset's rate (16-bit WAV)."""
    made: dict[int, Path] = {}

    def at(name: str) -> Path:
        rate = tiny(name).sampling_rate
        if rate not in made:
            folder = tmp_path_factory.mktemp(f"clips{rate}")
            for path in (CORPUS / f"{clip}.wav" for clip in SHORTEST_CLIPS[:3]):
                sf.write(folder / path.name, load_audio(path, rate, resample=True), rate, subtype="PCM_16")
            made[rate] = folder
        return made[rate]

    return at


@pytest.mark.parametrize("name", PRESETS)
def test_two_training_steps_at_the_preset_rate(name, tmp_path, clips_at):
    """The preset's discriminators (with their arguments), losses and input mel, on speech at its rate."""
    cfg = tiny(name)
    train, valid = Corpus(folder=clips_at(name), valid_count=1).resolve(cfg.seed)
    trainer = Trainer(cfg, scan_clips(train, cfg, cli=True).clips, scan_clips(valid, cfg, cli=True).clips,
                      TrainOptions(out=tmp_path, progress=False, checkpoint_interval=0, validation_interval=0))
    before = {k: v.clone() for k, v in trainer.generator.state_dict().items()}
    batch = next(iter(trainer.loader))
    mel_in, audio, _, _ = batch
    assert mel_in.shape == (1, cfg.num_mels, cfg.segment_size // cfg.hop_size)
    assert audio.shape == (1, cfg.segment_size)
    # The input mel is the preset's front-end (convention, floor, framing) of the item's audio: every frame with
    # official framing; with centred frames (computed on the whole clip) those whose window lies inside the segment.
    own = MelSpectrogram(**cfg.mel_kwargs())(audio[0])
    if cfg.mel_framing == "official":
        inside = range(own.shape[1])
    else:
        half = cfg.n_fft // 2
        inside = [j for j in range(mel_in.shape[2]) if half <= j * cfg.hop_size <= cfg.segment_size - half]
    assert inside and (mel_in[0, :, inside] - own[:, inside]).abs().max() < 1e-4
    for _ in range(2):
        result = trainer.train_step(batch)
        assert result.ok and all(np.isfinite(v) for v in result.terms.values())
    assert trainer.step == 2
    assert any(not torch.equal(before[k], v) for k, v in trainer.generator.state_dict().items())
    assert set(trainer.discriminators) == set(cfg.discriminators)


@pytest.mark.parametrize("name", PRESETS)
def test_vocode_round_trip_at_the_preset_rate(name, tmp_path, clips_at):
    """mel (the preset's front-end) then vocode: audio at the preset's rate, frames x hop samples; vocoding the
    saved mel gives the same file as vocoding the audio (copy synthesis)."""
    cfg = tiny(name)
    checkpoint = tmp_path / "tiny.pt"
    write_checkpoint(checkpoint, generator_payload(weights(name), cfg))
    wav = sorted(clips_at(name).glob("*.wav"))[0]
    assert main(["mel", "--config", str(_config_file(tmp_path, cfg)), str(wav), str(tmp_path / "clip.npy")]) == 0
    saved = np.load(tmp_path / "clip.npy")
    assert main(["vocode", "--checkpoint", str(checkpoint), "-o", str(tmp_path / "from_audio"), str(wav)]) == 0
    assert main(["vocode", "--checkpoint", str(checkpoint), "-o", str(tmp_path / "from_mel"),
                 str(tmp_path / "clip.npy")]) == 0
    from_audio, rate = sf.read(tmp_path / "from_audio" / wav.name)
    from_mel, rate_mel = sf.read(tmp_path / "from_mel" / "clip.wav")
    assert rate == rate_mel == cfg.sampling_rate
    assert len(from_audio) == len(from_mel) == saved.shape[1] * cfg.hop_size
    assert np.array_equal(from_audio, from_mel)


def _config_file(folder: Path, cfg: HifiganConfig) -> Path:
    path = folder / "config.json"
    path.write_text(json.dumps(cfg.to_dict()))
    return path


def test_every_preset_names_its_recipe_and_hifigan_configs_lists_it(capsys):
    """A preset's header names the published file it follows (project, file, commit); `hifigan configs` lists every
    preset with its rate, hop and mel, and --show prints the file itself (what a user copies)."""
    for name in PRESETS:
        recipe = load_config(name).recipe
        assert set(recipe) >= {"project", "file", "commit", "note"}, name
        assert len(recipe["commit"]) == 40 and int(recipe["commit"], 16) >= 0, name
    assert main(["configs", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert sorted(rows) == PRESETS
    assert rows["pwg-24k"]["hop"] == "300 (12.50 ms)" and rows["pwg-24k"]["rate"] == "24000 Hz"
    assert rows["pwg-24k"]["mel"] == "log10 (floor 1e-10), centred frames, |X| without epsilon"
    assert rows["v1"]["generator"].startswith("13.94 M")  # the paper's V1 (13.92 M without its biases' rounding)
    assert main(["configs", "--show", "pwg-24k"]) == 0
    shown = capsys.readouterr().out
    assert config_from_dict(json.loads(shown)) == load_config("pwg-24k")
    assert main(["configs", "--show", "v9"]) == 2
    assert "no preset 'v9'" in capsys.readouterr().err


def test_a_configs_frames_last_hop_size_samples_each_at_its_rate():
    """frames_ms and frames_seconds, the one frames-to-time rule (`hifigan configs`' hop, bench's audio and chunk,
    the look-ahead, evaluate's plot and page): frames x hop_size / sampling_rate."""
    pwg, v1 = load_config("pwg-24k"), load_config("v1")
    assert pwg.frames_ms(1) == 12.5 and pwg.frames_seconds(80) == 1.0  # 300 samples at 24 kHz: 12.5 ms each
    assert v1.frames_ms(441) == 5120.0 and v1.frames_seconds(441) == 5.12  # 441 x 256 = 112896 samples at 22050 Hz


def test_hifigan_configs_lists_the_presets_not_files_of_their_names(capsys, tmp_path, monkeypatch):
    """A user's own config saved as `v3` in the current folder is not what `hifigan configs` shows as preset v3."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "v3").write_text(json.dumps({"num_mels": 64}))
    assert main(["configs", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["v3"]["mels"] == 80


def test_hifigan_configs_prints_the_json_rows_as_an_aligned_table(capsys):
    """The plain `hifigan configs` (what a user types first): a header of the columns, then one line per preset
    whose cells, cut at the header's column starts, are the --json row's values."""
    assert main(["configs", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert main(["configs"]) == 0
    header, *lines = capsys.readouterr().out.splitlines()
    columns = list(rows[0])
    assert header.split() == columns
    starts = [match.start() for match in re.finditer(r"\S+", header)]
    cut = [[line[a:b].strip() for a, b in zip(starts, [*starts[1:], None])] for line in lines]
    assert cut == [[str(row[c]) for c in columns] for row in rows]
