"""Mels of a clipped source converted with the right --mel-convention: librosa's amplitude_to_db (top_db 80 by
default) and Coqui TTS's clip_norm at -4. Converted, they floor at their clip above the model's floor; vocode
(--strict-mel too) and train's judgement take them as the model's, as check-mel's advice promised, and still flag a
wrong declaration."""

import warnings

import librosa
import numpy as np
import pytest

from hifigan.cli import main
from hifigan.data.teacher_mels import MelFolder
from hifigan.melconv import ModelMel
from hifigan.melconv.vocode_input import MelInput, load_vocode_mel
from tests.support.mel_cases import CFG80, model80_and_magnitude

CFG = CFG80


@pytest.fixture(scope="module")
def clipped(tmp_path_factory):
    """A checkpoint of CFG, and an 8 kHz clip's magnitude mel as librosa's amplitude_to_db (top_db 80) and as Coqui
    TTS's normalised mel (ref_level_db 20, min_level_db -100, [-4, 4], clip_norm), with Coqui's statistics."""
    folder = tmp_path_factory.mktemp("clipped")
    magnitude = model80_and_magnitude(folder)
    np.save(folder / "db.npy", librosa.amplitude_to_db(magnitude).astype(np.float32))
    coqui = np.clip(8 * (20 * np.log10(np.maximum(magnitude, 1e-5)) - 20 + 100) / 100 - 4, -4, 4)
    np.save(folder / "coqui.npy", coqui.astype(np.float32))
    np.savez(folder / "coqui.npz", min=-80.0, max=20.0, convention="db")
    assert (coqui == -4).mean() > 0.01 and (librosa.amplitude_to_db(magnitude) == -80 + 20 * np.log10(
        magnitude.max())).any()  # the case: both clip
    return folder


@pytest.mark.parametrize(("mel", "options"), [("db.npy", ["--mel-convention", "db"]),
                                              ("coqui.npy", ["--mel-convention", "minmax4", "--mel-stats"])])
def test_a_clipped_mel_converted_vocodes_without_a_warning(clipped, mel, options, tmp_path, capfd):
    if options[-1] == "--mel-stats":
        options = [*options, str(clipped / "coqui.npz")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["vocode", "-c", str(clipped / "model.pt"), "-o", str(tmp_path), "--strict-mel", *options,
                     str(clipped / mel)])
    err = capfd.readouterr().err
    assert code == 0 and [str(w.message) for w in caught] == [] and err == "", err
    assert (tmp_path / mel.replace(".npy", ".wav")).is_file()


@pytest.mark.parametrize(("mel", "convention"), [("db.npy", "log10"), ("coqui.npy", "db"), ("coqui.npy", "ln-floor")])
def test_a_wrong_declaration_is_still_refused(clipped, mel, convention, tmp_path, capfd):
    """The dB mel declared log10 (its values stretched past 4.5 nats); Coqui's declared db (squeezed: what lies above
    its clip spreads 0.7 nats, not as speech) or ln-floor (no clipping front-end's convention): refused by
    --strict-mel."""
    code = main(["vocode", "-c", str(clipped / "model.pt"), "-o", str(tmp_path), "--strict-mel", "--mel-convention",
                 convention, str(clipped / mel)])
    assert code == 2 and "does not look like the model's mel (official)" in capfd.readouterr().err


def test_train_judges_converted_clipped_mels_as_the_models(clipped):
    model = ModelMel.of(CFG)
    converted = load_vocode_mel(clipped / "db.npy", model, MelInput("db"))
    folder = MelFolder(clipped, cli=True)
    folder.judge(clipped / "db.npy", converted, model, "db")
    assert folder.unlike == []
    folder.judge(clipped / "db.npy", converted, model)  # not known to be converted: judged by its values alone
    assert [path.name for path, _ in folder.unlike] == ["db.npy"]
