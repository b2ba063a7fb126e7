"""Teacher-forced mels in another convention (`train --mel-convention`): an ESPnet / Coqui model's log10 mels, or a
[frames, num_mels] layout, read as the model's own mel (exactly, to float32); a [frames, num_mels] file not declared
so is refused naming the option (none for a model normalised by mel_stats, whose option train refuses); a
convention train cannot apply (db-ref, meanstd, ...) is refused before anything is written; a resumed run keeps the
run's convention."""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from hifigan.audio import find_audio, load_audio
from hifigan.data.clip_scan import scan_clips, sort_clips
from hifigan.data.corpus import Corpus
from hifigan.data.dataset import VocoderDataset
from hifigan.data.teacher_mels import MelFolder, load_teacher_mel
from hifigan.errors import HifiganError, MelError
from hifigan.mel import MelSpectrogram
from hifigan.melconv.model import ModelMel
from hifigan.melconv.verdict import DB_MAGNITUDE, DB_POWER
from hifigan.training.job import data_spec, train
from hifigan.training.options import TrainJob, TrainOptions
from tests.support.cli_runs import failed_cleanly, run
from tests.support.files import CORPUS
from tests.support.scan import quiet_scan
from tests.support.tiny import tiny_config

CFG = tiny_config()  # 16 bins, hop 16


@pytest.fixture
def official_mels(tmp_path, tiny_corpus) -> dict[str, np.ndarray]:
    """Each tiny clip's mel as the model computes it, by stem."""
    frontend = MelSpectrogram(**CFG.mel_kwargs())
    return {p.stem: frontend(torch.from_numpy(load_audio(p))).numpy() for p in find_audio(tiny_corpus, recursive=True)}


@pytest.mark.parametrize(("convention", "written"), [("log10", lambda m: m / math.log(10)),
                                                     ("transposed+log10", lambda m: (m / math.log(10)).T),
                                                     ("transposed", lambda m: m.T)])
def test_declared_teacher_mels_are_read_as_the_models_own(tmp_path, tiny_corpus, official_mels, convention, written):
    """log10 M x ln 10 = ln M: the whole-utterance mel validation feeds the generator is the official one."""
    mels = tmp_path / "mels"
    mels.mkdir()
    for stem, mel in official_mels.items():
        np.save(mels / f"{stem}.npy", written(mel).astype(np.float32))
    clips = quiet_scan(find_audio(tiny_corpus, recursive=True), input_mels=mels, mel_convention=convention).clips
    assert len(clips) == len(official_mels)
    ds = VocoderDataset(clips, CFG, train=False, mel_convention=convention, cli=True)
    for i, clip in enumerate(clips):
        got = ds[i][0].numpy()
        assert got.shape == official_mels[clip.id].shape
        np.testing.assert_allclose(got, official_mels[clip.id], rtol=1e-6, atol=2e-6)


def test_a_frames_by_bins_teacher_mel_is_refused_naming_the_option(tmp_path, tiny_corpus, official_mels):
    mels = tmp_path / "mels"
    mels.mkdir()
    for stem, mel in official_mels.items():
        np.save(mels / f"{stem}.npy", mel.T)
    frames = official_mels["clip00"].shape[1]
    with pytest.raises(HifiganError, match=rf"clip00\.npy: mel has {frames} bins, the model expects 16 \(a \[frames, "
                                           r"16\] mel\? read so: transposed, official \(.*\); declare it: "
                                           r"--mel-convention transposed\)"):
        quiet_scan(find_audio(tiny_corpus, recursive=True), input_mels=mels)


def test_a_frames_by_bins_teacher_mel_of_a_normalised_model_hints_no_option(tmp_path):
    """A model normalised by mel_stats would read it as 'transposed+meanstd', which train refuses (it takes no
    statistics): the error names the file and its bins, and no option."""
    cfg = tiny_config(mel_convention="log10", mel_stats={"mean": [0.0] * 16, "std": [1.0] * 16})
    path = tmp_path / "clip.npy"
    np.save(path, np.zeros((40, 16), np.float32))
    with pytest.raises(MelError) as e:
        load_teacher_mel(path, ModelMel.of(cfg), cli=True)
    assert str(e.value) == f"{path}: mel has 40 bins, the model expects 16"


@pytest.mark.parametrize(("argv", "problem"), [
    (["--mel-convention", "log10"], "--mel-convention names the convention of the --input-mels mels: give both"),
    (["--input-mels", "mels", "--mel-convention", "meanstd"], "--mel-convention meanstd: train converts the "
     "conventions that need no statistics or dB reference"),
    (["--input-mels", "mels", "--mel-convention", "db-ref"], "--mel-convention db-ref: train converts the "
     "conventions that need no statistics or dB reference"),
    # the vocode hint (`hifigan train --input-mels`) would send a train user back where they are
    (["--input-mels", "mels", "--mel-convention", "other-hop"], "--mel-convention other-hop: no exact map to the "
     "model's mel exists (the filterbank or framing differs): train a model whose config computes these mels (its "
     "hop, window, rate, bins and band), with no --mel-convention"),
    (["--input-mels", "mels", "--mel-convention", "log2"], "unknown convention 'log2'"),
])
def test_train_refuses_a_convention_it_cannot_apply(tmp_path, capsys, tiny_corpus, tiny_config_json, argv, problem):
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--corpus", tiny_corpus, "--config", tiny_config_json, "-o", out,
                       "--max-steps", 1, *argv)
    failed_cleanly(code, err, out, problem)


def test_a_python_job_names_its_field_not_the_option(tmp_path):
    """TrainJob's check said `--mel-convention log2: unknown convention` to a Python caller."""
    job = TrainJob(TrainOptions(mel_convention="log2"), input_mels=tmp_path / "mels")
    with pytest.raises(HifiganError) as caught:
        job.check()
    assert str(caught.value).startswith("mel_convention='log2': unknown convention 'log2' (choose from official, ")


def test_a_resumed_run_keeps_its_mel_convention(tmp_path):
    stored = {"data": {"corpus": str(tmp_path), "input_mels": str(tmp_path / "mels"), "mel_convention": "log10"}}
    assert data_spec(TrainJob(resume=tmp_path), stored)["mel_convention"] == "log10"
    again = TrainJob(TrainOptions(mel_convention="log10"), resume=tmp_path)
    assert data_spec(again, stored)["mel_convention"] == "log10"
    with pytest.raises(HifiganError, match=r"these fields differ: mel_convention='db' \(the run's: log10\)"):
        data_spec(TrainJob(TrainOptions(mel_convention="db"), resume=tmp_path), stored)
    new = data_spec(TrainJob(TrainOptions(mel_convention="db"), Corpus(folder=tmp_path), input_mels=tmp_path), None)
    assert new["mel_convention"] == "db" and new["input_mels"] == str(tmp_path.resolve())


def test_a_resumed_run_reads_the_declared_mels_as_the_models_own(tmp_path, tiny_corpus, official_mels):
    """A run started by train(TrainJob) on log10 mels declared in its TrainOptions, and resumed without them: the
    resumed run's training and validation items are those of the same clips' model mels (the same windows)."""
    folders = {"log10": tmp_path / "log10", "model": tmp_path / "model"}
    for folder, scale in zip(folders.values(), (math.log(10), 1.0)):
        folder.mkdir()
        for stem, mel in official_mels.items():
            np.save(folder / f"{stem}.npy", (mel / scale).astype(np.float32))
    checked = []

    def on_step(trainer, batch, result):
        for ds in (trainer.data.train_set, trainer.data.valid_set):
            clips = [dataclasses.replace(c, mel_path=folders["model"] / c.mel_path.name) for c in ds.clips]
            model = VocoderDataset(clips, CFG, train=ds.train, seed=ds.seed, cli=True)
            model.set_epoch(ds.epoch)
            np.testing.assert_allclose(ds[0][0].numpy(), model[0][0].numpy(), rtol=1e-6, atol=2e-6)
        checked.append(trainer.step)

    quiet = dict(progress=False, validation_interval=0, checkpoint_interval=0)
    train(TrainJob(TrainOptions(tmp_path / "run", mel_convention="log10", **quiet), Corpus(tiny_corpus, valid_count=2),
                   input_mels=folders["log10"], config=CFG, max_steps=0))  # the initial weights only
    train(TrainJob(TrainOptions(**quiet), resume=tmp_path / "run", max_steps=1, on_step=on_step,
                   disc_start_step=10**6))  # generator steps only: fast
    assert checked == [1]



SPEECH = tiny_config(sampling_rate=22050, hop_size=256, n_fft=1024, win_size=1024, num_mels=80, fmax=8000,
                     upsample_rates=[16, 16], upsample_kernel_sizes=[32, 32], segment_size=4096)  # V1's mel


def _speech_mels(mels: Path, written: Callable[[np.ndarray], np.ndarray]) -> tuple[list[Path], Path]:
    """Two bundled LJSpeech clips, and their mels at V1's (`written` from the official) in `mels`."""
    files, frontend = [CORPUS / "LJ001-0002.wav", CORPUS / "LJ001-0008.wav"], MelSpectrogram(**SPEECH.mel_kwargs())
    mels.mkdir()
    for path in files:
        mel = frontend(torch.from_numpy(load_audio(path))).numpy()
        np.save(mels / f"{path.stem}.npy", written(mel).astype(np.float32))
    return files, mels


@pytest.mark.parametrize(("written", "declared", "option"), [
    (lambda m: m / math.log(10), None, "--mel-convention log10"),  # an ESPnet / Coqui model's, not declared
    (lambda m: m * 20 / math.log(10), None, f"--mel-convention db ({DB_MAGNITUDE}; {DB_POWER})"),
    (lambda m: (m - m.mean(1, keepdims=True)) / m.std(1, keepdims=True), None,  # train takes no --mel-stats
     "denormalise them first (train takes no statistics), or train a config whose mel_convention is meanstd, with "
     "its mel_stats"),
    (lambda m: m / math.log(10), "log10", None),  # declared: read as the model's own
    (lambda m: m, None, None)])
def test_teacher_mels_that_do_not_look_like_the_models_are_warned_of(tmp_path, written, declared, option):
    """Undeclared log10 or dB mels would train a generator on the wrong input scale without a word: the values of
    the first mels are judged as hifigan check-mel judges them, and one warning names a file and the option that
    converts it. Two bundled LJSpeech clips (speech, which the judgement is made for) at V1's mel."""
    files, mels = _speech_mels(tmp_path / "mels", written)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scan_clips(files, SPEECH, input_mels=mels, mel_convention=declared, cli=True)
    said = [str(w.message) for w in caught if "--input-mels" in str(w.message)]
    if option is None:
        assert said == []
    else:
        assert len(said) == 1 and said[0].startswith(f"2 of the first 2 --input-mels mels do not look like the "
                                                     f"model's mel (official), e.g. {mels / 'LJ001-0002.npy'}: ")
        assert said[0].endswith(f"convert: {option}")


def test_unlike_teacher_mels_of_a_python_job_are_warned_of_naming_the_field(tmp_path):
    """A job built in Python (MelFolder cli False, as Corpus.cli gives it) is told the TrainOptions field, not the
    option."""
    files, mels = _speech_mels(tmp_path / "mels", lambda m: m / math.log(10))
    folder = MelFolder(mels, cli=False)
    sort_clips(files, SPEECH, input_mels=folder, cli=True)
    with pytest.warns(UserWarning, match="input_mels mels do not look like") as caught:
        folder.warn_unlike(ModelMel.of(SPEECH))
    assert str(caught[0].message).endswith("convert: mel_convention='log10'") and "--" not in str(caught[0].message)
