"""A model's own mel convention: `hifigan mel` writes it, `vocode` takes it as it is (no conversion, no warning)
and converts others to it, `check-mel` judges mels against it."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import soundfile as sf
import torch

from hifigan.audio import load_audio
from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.cli import main
from hifigan.config import load_config
from hifigan.inference import Vocoder
from hifigan.mel import MelSpectrogram
from hifigan.melconv.model import ModelMel
from hifigan.melconv.vocode_input import check_vocode_mel
from hifigan.models import Generator
from tests.support.files import CORPUS
from tests.support.tiny import tiny_config

CLIP = CORPUS / "LJ001-0002.wav"
LABEL = "log10 (floor 1e-10), 8000 Hz, hop 16"


@pytest.fixture(scope="module")
def log10_model(tmp_path_factory):
    """A log10 model (80 bins at 8 kHz: tiny layers), its checkpoint and config, an 8 kHz speech clip, and that
    clip's mel in the model's convention (written by `hifigan mel`) and in the official one."""
    folder = tmp_path_factory.mktemp("log10")
    cfg = tiny_config(num_mels=80, n_fft=512, win_size=512, mel_convention="log10")
    torch.manual_seed(0)
    write_checkpoint(folder / "model.pt", generator_payload(Generator(cfg).state_dict(), cfg))
    (folder / "model.json").write_text(json.dumps(cfg.to_dict()))
    wav = folder / "speech.wav"
    sf.write(wav, load_audio(CLIP, 8000, resample=True), 8000, subtype="PCM_16")
    assert main(["mel", str(wav), str(folder / "log10.npy"), "--config", str(folder / "model.json")]) == 0
    official = MelSpectrogram(**{**cfg.mel_kwargs(), "convention": "official", "floor": None})
    np.save(folder / "official.npy", official.checked(load_audio(wav, 8000)).numpy())
    return cfg, folder


def test_mel_command_writes_the_configs_front_end(log10_model):
    cfg, folder = log10_model
    mel = np.load(folder / "log10.npy")
    audio = torch.from_numpy(load_audio(folder / "speech.wav", 8000))
    magnitude = MelSpectrogram(**{**cfg.mel_kwargs(), "convention": "linear-magnitude", "floor": None})(audio)
    np.testing.assert_array_equal(mel, MelSpectrogram(**cfg.mel_kwargs())(audio).numpy())
    np.testing.assert_allclose(mel, torch.log10(magnitude.clamp(min=1e-10)).numpy(), rtol=0, atol=1e-6)


def test_a_log10_model_vocodes_log10_mels_as_they_are(log10_model, tmp_path, capfd):
    """No conversion, no warning (every warning recorded, none filtered) and nothing on the stderr file descriptor;
    the audio is the model's on the mel as written."""
    _, folder = log10_model
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["vocode", "-c", str(folder / "model.pt"), "-o", str(tmp_path), "--strict-mel",
                     str(folder / "log10.npy")])
    err = capfd.readouterr().err
    assert code == 0 and [str(w.message) for w in caught] == [] and err == "", err
    expected = Vocoder.from_checkpoint(folder / "model.pt")(np.load(folder / "log10.npy")).numpy()
    written = sf.read(tmp_path / "log10.wav", dtype="float32")[0]
    assert np.abs(written - expected).max() <= 1 / 32768


def test_official_mels_given_to_a_log10_model_warn_or_convert(log10_model, tmp_path, capsys):
    _, folder = log10_model
    base = ["vocode", "-c", str(folder / "model.pt")]
    unlike = r"official\.npy: does not look like the model's mel \(log10 \(floor 1e-10\)\)"
    with pytest.warns(UserWarning, match=unlike) as caught:
        assert main([*base, "-o", str(tmp_path / "warn"), str(folder / "official.npy")]) == 0
    assert len(caught) == 1 and "convert: --mel-convention official" in str(caught[0].message)
    assert capsys.readouterr().err == ""
    convert = ["--mel-convention", "official", str(folder / "official.npy")]
    assert main([*base, "-o", str(tmp_path / "conv"), *convert]) == 0
    assert capsys.readouterr().err == ""
    # official -> ln M -> log10(max(M, 1e-10)): the official floor stays where it was (1e-5), exact above it
    official = np.load(folder / "official.npy").astype(np.float64)
    vocoder = Vocoder.from_checkpoint(folder / "model.pt")
    expected = vocoder((official / np.log(10)).astype(np.float32)).numpy()
    written = sf.read(tmp_path / "conv" / "official.wav", dtype="float32")[0]
    assert np.abs(written - expected).max() <= 1 / 32768
    converted = vocoder.set_mel_convention("official")(np.load(folder / "official.npy")).numpy()
    np.testing.assert_allclose(converted, expected, rtol=0, atol=1e-5)


def test_check_mel_judges_against_the_models_convention(log10_model, capsys):
    _, folder = log10_model
    log10, official = str(folder / "log10.npy"), str(folder / "official.npy")
    model = ["check-mel", "--checkpoint", str(folder / "model.pt")]
    assert main([*model, log10]) == 0
    out = capsys.readouterr().out
    assert f"log10.npy: fits the model's mel ({LABEL}): log10" in out and "convert: none needed" in out
    assert main([*model, official]) == 1
    out = capsys.readouterr().out
    assert f"official.npy: does NOT fit the model's mel ({LABEL})" in out and "--mel-convention official" in out
    assert main(["check-mel", "--config", str(folder / "model.json"), log10]) == 0
    # Without a model: the official v1 convention, as before.
    assert main(["check-mel", "--num-mels", "80", official]) == 0
    assert main(["check-mel", "--num-mels", "80", log10]) == 1
    assert "(official, 22050 Hz, hop 256): log10" in capsys.readouterr().out


def test_check_mel_of_other_bins_says_it_judged_the_convention_alone(log10_model, tmp_path, capsys):
    """--num-mels N other than the model's bins: each line said "fits the model's mel (...)" of a file that vocode
    refuses on its bins; the lines and the last one name the bins judged and the model's."""
    _, folder = log10_model
    low, low_official = tmp_path / "low.npy", tmp_path / "low_official.npy"
    np.save(low, np.load(folder / "log10.npy")[:40])
    np.save(low_official, np.load(folder / "official.npy")[:40])
    assert main(["check-mel", "--checkpoint", str(folder / "model.pt"), "--num-mels", "40", str(low),
                 str(low_official)]) == 1
    lines = capsys.readouterr().out.splitlines()
    against = f"the model's mel ({LABEL}) at 40 bins (the model takes 80)"
    assert lines[0].startswith(f"{low}: fits {against}: log10")
    assert lines[1].startswith(f"{low_official}: does NOT fit {against}: ")
    assert lines[2].startswith(f"checked 2 files against {against}: 1 fits; 1 does not")
    assert main(["check-mel", "--checkpoint", str(folder / "model.pt"), "--num-mels", "80",
                 str(folder / "log10.npy")]) == 0
    assert f"fits the model's mel ({LABEL}): log10" in capsys.readouterr().out


def test_a_normalised_model_expects_normalised_mels(log10_model, tmp_path, capsys):
    cfg, folder = log10_model
    mel = np.load(folder / "log10.npy").astype(np.float64)
    mean, std = mel.mean(axis=1), mel.std(axis=1)
    (tmp_path / "normalised.json").write_text(json.dumps({**cfg.to_dict(), "mel_stats": "stats.npz"}))
    np.savez(tmp_path / "stats.npz", mean=mean, std=std)
    np.save(tmp_path / "normalised.npy", ((mel - mean[:, None]) / std[:, None]).astype(np.float32))
    check = ["check-mel", "--config", str(tmp_path / "normalised.json")]
    assert main([*check, str(tmp_path / "normalised.npy")]) == 0
    assert "(log10 (floor 1e-10) normalised by mel_stats, 8000 Hz, hop 16): meanstd" in capsys.readouterr().out
    assert main([*check, str(folder / "log10.npy")]) == 1
    assert "convert: --mel-convention log10" in capsys.readouterr().out


def test_a_normalised_models_own_mel_of_a_quieter_clip_fits_it(log10_model, tmp_path, capsys):
    """Statistics of three clips; the fourth clip 12 dB quieter: `hifigan mel` of the model gives its normalised mel
    (several units below 0, as the statistics' corpus was louder), and check-mel judges that mel the model's own,
    the same clip's un-normalised log10 mel not (its option converts it)."""
    cfg, folder = log10_model
    frontend = MelSpectrogram(**cfg.mel_kwargs())
    corpus = [frontend(torch.from_numpy(load_audio(CORPUS / f"LJ001-000{i}.wav", 8000, resample=True))).numpy()
              for i in (1, 3, 4)]
    values = np.concatenate(corpus, axis=1).astype(np.float64)
    np.savez(tmp_path / "stats.npz", mean=values.mean(axis=1), std=values.std(axis=1), convention="log10")
    (tmp_path / "normalised.json").write_text(json.dumps({**cfg.to_dict(), "mel_stats": "stats.npz"}))
    sf.write(tmp_path / "quiet.wav", 0.25 * load_audio(CLIP, 8000, resample=True), 8000, subtype="PCM_16")
    model = ["--config", str(tmp_path / "normalised.json")]
    assert main(["mel", str(tmp_path / "quiet.wav"), "-o", str(tmp_path / "normalised.npy"), *model]) == 0
    plain = ["--config", str(folder / "model.json")]
    assert main(["mel", str(tmp_path / "quiet.wav"), "-o", str(tmp_path / "log10.npy"), *plain]) == 0
    assert np.load(tmp_path / "normalised.npy").mean() < -0.5  # the case: not the mean ~0 of the corpus's level
    capsys.readouterr()
    assert main(["check-mel", *model, str(tmp_path / "normalised.npy")]) == 0, capsys.readouterr().out
    assert "fits the model's mel" in capsys.readouterr().out
    assert main(["check-mel", *model, str(tmp_path / "log10.npy")]) == 1
    assert "convert: --mel-convention log10" in capsys.readouterr().out


def test_pwg_preset_mels_fit_it_and_not_the_official_convention(tmp_path, capsys):
    wav = tmp_path / "speech24k.wav"
    sf.write(wav, load_audio(CLIP, 24000, resample=True), 24000, subtype="PCM_16")
    assert main(["mel", str(wav), str(tmp_path / "pwg.npy"), "--config", "pwg-24k"]) == 0
    mel = np.load(tmp_path / "pwg.npy")
    assert mel.shape == (80, 1 + sf.info(wav).frames // 300)
    assert main(["check-mel", "--config", "pwg-24k", str(tmp_path / "pwg.npy")]) == 0
    said = capsys.readouterr().out
    assert "(log10 (floor 1e-10), centred frames, |X| without epsilon, 24000 Hz, hop 300): log10" in said
    assert main(["check-mel", str(tmp_path / "pwg.npy")]) == 1
    assert "--mel-convention log10" in capsys.readouterr().out
    assert load_config("pwg-24k").mel_framing == "center"


def test_a_mel_both_conventions_explain_is_read_as_the_models():
    """A steady tone's log10 mel (no floor, little dynamics) is a plausible official mel too: by values alone it
    stays official, judged against a log10 model it is log10."""
    from hifigan.melconv.detect import detect
    from hifigan.melconv.model import ModelMel
    from tests.support.mel_cases import magnitude

    t = np.arange(22050) / 22050
    tone = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.01 * np.random.default_rng(0).standard_normal(t.size)
    x = np.log10(np.maximum(magnitude(tone), 1e-10))
    assert detect(x).convention == "official"
    verdict = detect(x, 80, ModelMel("log10", 1e-10, None, 80, 22050, 256))
    assert verdict.convention == "log10" and verdict.matches and verdict.option == "none needed"


def test_a_config_of_another_convention_is_refused_for_a_checkpoint(log10_model, tmp_path, capsys):
    cfg, folder = log10_model
    (tmp_path / "official.json").write_text(json.dumps({**cfg.to_dict(), "mel_convention": "official"}))
    assert main(["vocode", "-c", str(folder / "model.pt"), "--config", str(tmp_path / "official.json"), "-o",
                 str(tmp_path / "out"), str(folder / "log10.npy")]) == 2
    assert "mel_convention is 'official', the model has 'log10'" in capsys.readouterr().err


def test_a_mel_front_end_is_described_in_one_wording_wherever_a_user_reads_it(tmp_path, capsys):
    """speechbrain-16k takes the official log of a mel framed otherwise (centred frames, |X| without epsilon):
    check-mel, `hifigan configs` and the model's label say so alike, not 'official' alone in some of them."""
    described = "official, centred frames, |X| without epsilon"
    cfg = load_config("speechbrain-16k")
    mel = tmp_path / "sb.npy"
    np.save(mel, MelSpectrogram(**cfg.mel_kwargs()).checked(torch.randn(4000) * 0.1).numpy())
    assert main(["check-mel", "--config", "speechbrain-16k", str(mel)]) == 0
    assert f"sb.npy: fits the model's mel ({described}, 16000 Hz, hop 256)" in capsys.readouterr().out
    assert main(["configs", "--json"]) == 0
    rows = {row["name"]: row["mel"] for row in json.loads(capsys.readouterr().out)}
    assert rows["speechbrain-16k"] == ModelMel.of(cfg).label == described
    assert rows["v1"] == "official"


@pytest.mark.parametrize(("preset", "label"), [("speechbrain-16k", "official, centred frames, |X| without epsilon"),
                                               ("v1", "official")])
def test_a_mel_unlike_the_models_is_told_so_in_a_sentence_that_reads_for_any_label(tmp_path, preset, label):
    """The label sits in brackets after 'the model's mel', so a long one (commas and all) reads as well as 'official'
    alone: the mel's log10 (not the model's ln) is warned of as such."""
    cfg = load_config(preset)
    mel = MelSpectrogram(**cfg.mel_kwargs()).checked(torch.from_numpy(load_audio(CLIP, cfg.sampling_rate,
                                                                                  resample=True))).numpy()
    np.save(tmp_path / "l10.npy", mel / np.log(10))
    with pytest.warns(UserWarning) as caught:
        check_vocode_mel(tmp_path / "l10.npy", ModelMel.of(cfg))
    assert [str(w.message).split(": ")[:2] for w in caught] == [
        [str(tmp_path / "l10.npy"), f"does not look like the model's mel ({label})"]]
