"""Each mel convention built from real audio is recognised, and converts back to the official mel exactly (the
conversions' refusals from Python: test_mel_convention_refusals.py)."""

import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hifigan.melconv import MelStats, detect, to_official
from hifigan.melconv.conventions import LINEAR_FLOOR, to_nats
from hifigan.melconv.stats import load_stats
from hifigan.melconv.verdict import DB_MAGNITUDE, DB_POWER
from tests.support.mel_cases import CLIPS, clip, convention, db_ref_max, magnitude, normalised, official
from tests.support.official_files import official_tiny_files
from tests.support.tiny import tiny_config

FAST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
CLIP = st.integers(0, len(CLIPS) - 1)
EXACT = ["log10", "ln-floor-1e-7", "ln-floor-1e-10", "ln-power", "log10-power", "db", "db-power",
         "linear-magnitude", "linear-power"]
NAME = {"ln-floor-1e-7": "ln-floor", "ln-floor-1e-10": "ln-floor", "db-power": "db"}


def test_our_magnitude_is_the_official_front_end():
    audio = clip(0) * 0.1
    np.testing.assert_allclose(convention(magnitude(audio), "official"), official(audio), rtol=0, atol=1e-12)


@FAST
@given(index=CLIP, gain_db=st.floats(-30, -10), name=st.sampled_from(EXACT))
def test_each_convention_is_named_and_converts_back_exactly(index, gain_db, name):
    audio = clip(index) * 10 ** (gain_db / 20)
    m, reference = magnitude(audio), official(audio)
    x = convention(m, name)
    verdict = detect(x)
    assert verdict.convention == NAME.get(name, name), verdict.line()
    assert not verdict.official
    np.testing.assert_allclose(to_official(x, NAME.get(name, name)), reference, rtol=0, atol=1e-9)


@FAST
@given(index=CLIP, name=st.sampled_from(["log10", "ln-power", "db", "linear-magnitude", "linear-power"]))
def test_loud_speech_without_floor_values(index, name):
    """At 0 dBFS few values sit on a floor: the spread of the values must decide."""
    x = convention(magnitude(clip(index)), name)
    assert detect(x).convention == name, detect(x).line()


@FAST
@given(index=CLIP, gain_db=st.floats(-40, 0), top_db=st.sampled_from([None, 80.0]))
def test_db_relative_to_the_maximum(index, gain_db, top_db):
    audio = clip(index) * 10 ** (gain_db / 20)
    x, ref = db_ref_max(magnitude(audio), top_db)
    assert detect(x).convention == "db-ref"
    assert "--mel-db-ref" in detect(x).option
    back = to_official(x, "db-ref", db_ref=ref)
    if top_db is None:
        np.testing.assert_allclose(back, official(audio), rtol=0, atol=1e-9)
    else:  # exact above the clip; the clipped values are lost
        keep = x > -top_db
        np.testing.assert_allclose(back[keep], official(audio)[keep], rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="reference amplitude"):
        to_official(x, "db-ref")


@FAST
@given(index=CLIP, gain_db=st.floats(-40, 0), kind=st.sampled_from(["meanstd", "minmax01", "minmax4"]),
       base=st.sampled_from(["official", "log10", "db"]))
def test_normalised_mels_need_and_use_their_statistics(index, gain_db, kind, base):
    audio = clip(index) * 10 ** (gain_db / 20)
    x, stats = normalised(convention(magnitude(audio), base), kind)
    assert detect(x).convention == kind, detect(x).line()
    mel_stats = MelStats(stats.get("mean"), stats.get("std"), stats.get("min"), stats.get("max"), base)
    np.testing.assert_allclose(to_official(x, kind, mel_stats), official(audio), rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match=rf"^spec='{kind}' needs stats=: the statistics of the mels' normalisation$"):
        to_official(x, kind)


@FAST
@given(index=CLIP, gain_db=st.floats(-40, 0), name=st.sampled_from(["official", "log10", "db"]))
def test_transposed(index, gain_db, name):
    audio = clip(index) * 10 ** (gain_db / 20)
    x = convention(magnitude(audio), name).T
    verdict = detect(x)
    assert verdict.transposed and verdict.convention == name and not verdict.official
    spec = "transposed" if name == "official" else f"transposed+{name}"
    readings = f" ({DB_MAGNITUDE}; {DB_POWER})" if name == "db" else ""  # or a mel of the power
    assert verdict.option == f"--mel-convention {spec}{readings}"
    np.testing.assert_allclose(to_official(x, spec), official(audio), rtol=0, atol=1e-9)


def test_librosa_front_end_magnitude_db():
    """librosa's own mel (power=1, same framing) and dB functions: recognised, converted to within 1e-4.

    Compared where the official 1e-9 inside its square root changes nothing (the mel above e^-6)."""
    import librosa

    audio = clip(2) * 0.3
    reference = official(audio)
    y = np.pad(audio, (384, 384), mode="reflect")
    mag = librosa.feature.melspectrogram(y=y, sr=22050, n_fft=1024, hop_length=256, center=False, power=1.0,
                                         n_mels=80, fmin=0, fmax=8000)
    keep = reference > -6
    db = librosa.amplitude_to_db(mag, ref=1.0, amin=1e-5, top_db=None)
    assert detect(db).convention == "db"
    assert np.abs(to_official(db, "db") - reference)[keep].max() < 1e-4
    assert detect(mag).convention == "linear-magnitude"
    assert np.abs(to_official(mag, "linear-magnitude") - reference)[keep].max() < 1e-4
    db_max = librosa.amplitude_to_db(mag, ref=np.max, amin=1e-5, top_db=None)
    assert detect(db_max).convention == "db-ref"
    back = to_official(db_max, "db-ref", db_ref=float(mag.max()))
    assert np.abs(back - reference)[keep].max() < 1e-4


def test_librosa_power_mel_is_not_the_square_of_the_official_mel():
    """power=2 filters the power spectrum: sum(w |X|^2) != (sum(w |X|))^2, so no exact map exists."""
    import librosa

    audio = clip(2) * 0.3
    y = np.pad(audio, (384, 384), mode="reflect")
    power = librosa.feature.melspectrogram(y=y, sr=22050, n_fft=1024, hop_length=256, center=False, power=2.0,
                                           n_mels=80, fmin=0, fmax=8000)
    assert np.abs(to_official(power, "linear-power") - official(audio)).max() > 0.5
    with pytest.raises(ValueError, match="no exact map"):
        to_official(power, "mel-of-power")


@pytest.mark.parametrize("index", [0, 4])
def test_the_natural_log_of_librosas_default_power_mel_is_not_taken_for_official(index):
    """librosa.feature.melspectrogram's default power=2.0 under ln(clamp(x, 1e-5)) sits on the official floor
    exactly, but speech at a training level reaches 5.3 to 7.2 nats, more than any official mel: not official (it was,
    with confidence 0.99, and vocode --strict-mel took it); the official mel of the same audio still is."""
    import librosa

    audio = clip(index)[: 3 * 22050] * 0.95
    power = librosa.feature.melspectrogram(y=audio, sr=22050, n_fft=1024, hop_length=256, n_mels=80, fmax=8000)
    verdict = detect(np.log(np.clip(power, 1e-5, None)))
    assert not verdict.matches and verdict.convention == "unknown", verdict.line()
    assert "power spectrum" in verdict.detail and verdict.evidence["max"] > 4.5
    assert detect(official(audio)).official


@pytest.mark.parametrize("name", ["other-fmax", "htk-mel", "other-hop"])
def test_no_exact_map_is_said_not_guessed(name):
    with pytest.raises(ValueError, match="no exact map"):
        to_official(np.zeros((80, 3)), name)


def test_official_floor_is_the_official_value():
    from hifigan.melconv.conventions import OFFICIAL_FLOOR, OFFICIAL_MAGNITUDE_FLOOR

    assert OFFICIAL_MAGNITUDE_FLOOR == 1e-5 and OFFICIAL_FLOOR == -11.512925464970229  # ln(1e-5)


def test_cli_check_mel_and_vocode(tmp_path, capsys):
    """check-mel exit codes; vocode warns per file, --strict-mel fails before writing, --mel-convention converts."""

    from hifigan.cli import main
    from hifigan.inference import Vocoder

    cfg, ckpt, cfg_path = official_tiny_files(tmp_path)
    import torch

    from hifigan.mel import mel_spectrogram

    audio = torch.from_numpy(clip(0)[: 8000].astype(np.float32) * 0.1)
    ref = mel_spectrogram(audio, **cfg.mel_kwargs()).numpy()
    np.save(tmp_path / "ok.npy", ref)
    np.save(tmp_path / "l10.npy", (ref / math.log(10)).astype(np.float32))
    assert main(["check-mel", "--num-mels", "16", str(tmp_path / "ok.npy")]) == 0
    assert main(["check-mel", "--num-mels", "16", str(tmp_path / "ok.npy"), str(tmp_path / "l10.npy")]) == 1
    assert "--mel-convention log10" in capsys.readouterr().out
    assert main(["check-mel", str(tmp_path / "missing.npy")]) == 2
    base = ["vocode", "-c", str(ckpt), "--config", str(cfg_path)]
    assert main([*base, "-o", str(tmp_path / "strict"), "--strict-mel", str(tmp_path / "ok.npy"),
                 str(tmp_path / "l10.npy")]) == 2
    assert not list((tmp_path / "strict").glob("*.wav"))
    capsys.readouterr()
    with pytest.warns(UserWarning, match=r"l10\.npy: does not look like the model's mel \(official\)") as caught:
        assert main([*base, "-o", str(tmp_path / "warn"), str(tmp_path / "l10.npy")]) == 0
    assert len(caught) == 1 and capsys.readouterr().err == ""  # the CLI prints it as `hifigan vocode: warning: ...`
    assert main([*base, "-o", str(tmp_path / "conv"), "--mel-convention", "log10", str(tmp_path / "l10.npy")]) == 0
    assert capsys.readouterr().err == ""
    import soundfile as sf

    vocoder = Vocoder.from_checkpoint(ckpt, cfg_path)
    expected = vocoder(ref).numpy()
    got = sf.read(tmp_path / "conv" / "l10.wav", dtype="float32")[0]
    assert np.abs(got - expected).max() < 2 / 32768
    converted = vocoder.set_mel_convention("log10")(np.load(tmp_path / "l10.npy"))
    np.testing.assert_allclose(converted.numpy(), expected, atol=1e-5)


@pytest.mark.parametrize("spec", ["transposed", "transposed+log10"])
def test_vocode_reads_a_transposed_mel_once(tmp_path, capsys, spec):
    """[frames, num_mels] files: turned once (a square mel, frames == bins, would take a second turn silently), then
    converted; the CLI and a Vocoder (__call__, stream) give the audio of the upright official mel."""
    import soundfile as sf
    import torch

    from hifigan.cli import main
    from hifigan.inference import Vocoder
    from hifigan.mel import mel_spectrogram

    cfg, ckpt, cfg_path = official_tiny_files(tmp_path)
    audio = torch.from_numpy(clip(1)[: 16 * cfg.hop_size].astype(np.float32) * 0.1)
    ref = mel_spectrogram(audio, **cfg.mel_kwargs()).numpy()
    assert ref.shape == (16, 16)  # square: a second transpose keeps the shape
    given = (ref / math.log(10) if "log10" in spec else ref).T.astype(np.float32)
    np.save(tmp_path / "t.npy", given)
    assert main(["vocode", "-c", str(ckpt), "--config", str(cfg_path), "-o", str(tmp_path / "out"), "--mel-convention",
                 spec, str(tmp_path / "t.npy")]) == 0
    vocoder = Vocoder.from_checkpoint(ckpt, cfg_path)
    expected = vocoder(ref).numpy()
    assert np.abs(sf.read(tmp_path / "out" / "t.wav", dtype="float32")[0] - expected).max() < 2 / 32768
    vocoder.set_mel_convention(spec)
    np.testing.assert_allclose(vocoder(given).numpy(), expected, atol=1e-5)
    streamed = torch.cat(list(vocoder.stream([given[:5], given[5:11], given[11:]]))).numpy()
    np.testing.assert_allclose(streamed, expected, atol=1e-5)


def test_a_float64_vocoder_converts_in_float64():
    """log10 = ln / ln 10: converted, it is the natural-log mel to float64 rounding, so a float64 model gives the same
    audio within 1e-12 (a conversion through float32 is ~1e-7 off)."""
    import torch

    from hifigan.inference import Vocoder
    from hifigan.models import Generator

    cfg = tiny_config()
    torch.manual_seed(0)
    vocoder = Vocoder(Generator(cfg).double(), cfg, backend="eager")
    ln_mel = torch.randn(cfg.num_mels, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) - 4
    expected = vocoder(ln_mel)
    assert expected.dtype == torch.float64
    got = vocoder.set_mel_convention("log10")((ln_mel / math.log(10)).numpy())
    assert float((got - expected).abs().max()) < 1e-12


@pytest.mark.parametrize("name", ["linear-magnitude", "linear-power"])
def test_a_linear_mels_zeros_stand_for_the_same_magnitude(name):
    """A zero of M or of M^2 is M = 1e-30 (ln M = -69.08), below any log convention's floor: not M = 1e-15 for M^2."""
    nats = to_nats(np.array([[0.0, 1.0]]), name)
    assert nats.tolist() == [[math.log(LINEAR_FLOOR), 0.0]]


def test_espnet_stats_are_its_global_mvn(tmp_path):
    """ESPnet2's feats_stats.npz (count 4, sums [4, 8], squares [8, 20]): mean E[x] = [1, 2], std
    sqrt(E[x^2] - E[x]^2) = [1, 1] (divided by the count, not count - 1), log10 mels."""
    np.savez(tmp_path / "feats_stats.npz", count=np.array(4), sum=np.array([4.0, 8.0]),
             sum_square=np.array([8.0, 20.0]))
    stats = load_stats(tmp_path / "feats_stats.npz", 2)
    assert (stats.mean.tolist(), stats.std.tolist(), stats.base) == ([1.0, 2.0], [1.0, 1.0], "log10")


def test_the_manual_table_describes_every_convention_and_no_other():
    """docs/sample-rates.md's --mel-convention table is the one description of the conventions: it names each of
    CONVENTIONS once (transposed as `transposed+NAME`) and nothing else."""
    from hifigan.melconv.conventions import CONVENTIONS
    from tests.support.files import REPO

    lines = (REPO / "docs" / "sample-rates.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| `--mel-convention` | values |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append(line.split("|")[1])
    named = [name.replace("+NAME", "") for cell in rows for name in re.findall(r"`([^`]+)`", cell)]
    assert sorted(named) == sorted(CONVENTIONS)
