"""After a conversion (vocode --mel-convention, train --input-mels with one) a mel that does not look like the model's
is advised on as the file gives it: the option to give instead, or none, never a conversion of the converted values
(which, given, would convert the file twice)."""

import dataclasses
import warnings

import numpy as np
import pytest

from hifigan.cli import main
from hifigan.data.teacher_mels import MelFolder
from hifigan.melconv import MelStats, MelVerdict, ModelMel
from hifigan.melconv.verdict import DB_MAGNITUDE, DB_POWER
from hifigan.melconv.vocode_input import MelInput, check_vocode_mel, load_vocode_mel
from tests.support.mel_cases import CFG80, model80_and_magnitude

CFG = CFG80


@pytest.fixture(scope="module")
def mels(tmp_path_factory):
    """An 8 kHz clip's magnitude mel M as official, log10, dB and per-bin mean/std-normalised log10 files (that
    also saved [frames, 80]; its statistics in stats.npz); a checkpoint of CFG."""
    folder = tmp_path_factory.mktemp("given")
    m = model80_and_magnitude(folder)
    log10 = np.log10(np.maximum(m, 1e-10))
    mean, std = log10.mean(axis=1, keepdims=True), log10.std(axis=1, keepdims=True)
    files = {"official": np.log(np.maximum(m, 1e-5)), "log10": log10, "db": 20 * np.log10(np.maximum(m, 1e-5)),
             "meanstd": (log10 - mean) / std, "frames_first": ((log10 - mean) / std).T}
    for name, values in files.items():
        np.save(folder / f"{name}.npy", values.astype(np.float32))
    np.savez(folder / "stats.npz", mean=mean[:, 0], std=std[:, 0], convention="log10")
    return folder


def advice(path, model, spec, stats=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_vocode_mel(path, model, MelInput(spec, stats))
    assert len(caught) <= 1
    return str(caught[0].message) if caught else None


@pytest.mark.parametrize(("model", "mel", "declared", "option"), [
    # Official mels: the converted values read as log10 (was 'convert: --mel-convention log10')
    ("official", "official", "ln-power", "none needed: the file is the model's mel as given (leave out "
                                         "--mel-convention ln-power)"),
    # was 'convert: --mel-convention ln-power': the converted values, not the normalised file
    ("official", "meanstd", "log10", "--mel-convention meanstd --mel-stats FILE"),
    # was 'ln-power': the dB mel declared log10, whose converted values spread twice as far as the model's
    ("ln-floor", "db", "log10", f"--mel-convention db ({DB_MAGNITUDE}; {DB_POWER})"),
    # was 'transposed+ln-power', of the converted values: the file is a normalised mel saved [frames, 80]
    ("official", "frames_first", "transposed+log10", "--mel-convention transposed+meanstd --mel-stats FILE"),
    # the model's own normalised mel declared log10: was 'convert: --mel-convention db'
    ("meanstd", "meanstd", "log10", "none needed: the file is the model's mel as given (leave out "
                                    "--mel-convention log10)"),
])
def test_the_advice_after_a_conversion_is_for_the_file_as_given(mels, model, mel, declared, option):
    own = ModelMel.of(CFG)
    if model == "ln-floor":
        own = dataclasses.replace(own, convention="ln-floor", floor=1e-10)
    elif model == "meanstd":
        stats = np.load(mels / "stats.npz")
        own = dataclasses.replace(own, convention="log10", floor=1e-10,
                                  stats=MelStats(mean=stats["mean"], std=stats["std"], base="log10"))
    message = advice(mels / f"{mel}.npy", own, declared, mels / "stats.npz" if declared == "meanstd" else None)
    assert message is not None and message.endswith(f"; convert: {option}"), message
    assert (f"does not look like the model's mel ({own.label}) once converted from --mel-convention {declared}; as "
            "given it reads as ") in message


def test_following_the_advice_leaves_nothing_to_convert(mels):
    """The option a converted file's warning names, given instead, reads as the model's: no second warning."""
    own = ModelMel.of(CFG)
    message = advice(mels / "meanstd.npy", own, "log10")
    assert message.endswith("convert: --mel-convention meanstd --mel-stats FILE")
    assert advice(mels / "meanstd.npy", own, "meanstd", mels / "stats.npz") is None
    assert advice(mels / "db.npy", own, "db") is None


def test_a_file_that_reads_as_declared_is_not_sent_round_again():
    verdict = MelVerdict("log10", 0.9, detail="floor 1e-05", declared="log10")
    assert verdict.option == ("no other conversion known: the file as given reads as --mel-convention log10, which "
                              "was given; check the front-end that made it")
    transposed = MelVerdict("log10", 0.9, transposed=True, declared="transposed+log10")
    assert transposed.option.startswith("no other conversion known")
    assert MelVerdict("log10", 0.9, declared="db").option == "--mel-convention log10"
    assert MelVerdict("log10", 0.9).option == "--mel-convention log10"  # check-mel's: nothing was converted


def test_vocode_refuses_naming_the_option_to_leave_out(mels, tmp_path, capfd):
    code = main(["vocode", "-c", str(mels / "model.pt"), "-o", str(tmp_path), "--strict-mel", "--mel-convention",
                 "ln-power", str(mels / "official.npy")])
    err = capfd.readouterr().err
    assert code == 2 and "(leave out --mel-convention ln-power) (--strict-mel)" in err, err
    assert not list(tmp_path.glob("*.wav"))


def test_train_advises_on_the_file_as_given(mels):
    model = ModelMel.of(CFG)
    folder = MelFolder(mels, cli=False)
    for _ in range(2):
        folder.judge(mels / "meanstd.npy", load_vocode_mel(mels / "meanstd.npy", model, MelInput("log10")), model,
                     "log10")
    with pytest.warns(UserWarning) as caught:
        folder.warn_unlike(model)
    message = str(caught[0].message)
    assert "once converted from mel_convention='log10'; as given it reads as meanstd" in message
    assert message.endswith("convert: denormalise them first (train takes no statistics), or train a config whose "
                            "mel_convention is meanstd, with its mel_stats")
