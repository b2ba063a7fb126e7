"""`vocode`'s options for .npy mels of another convention (--mel-convention, --mel-stats, --mel-db-ref) and
`Vocoder.set_mel_convention`: each mistake is one line naming the file or the option, never an internal error."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from hifigan.audio import load_audio
from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.errors import MelError
from hifigan.inference import Vocoder
from hifigan.mel import MelSpectrogram
from hifigan.melconv.conventions import MelStats
from hifigan.models import Generator
from tests.support.cli_runs import BINS, failed_cleanly, run
from tests.support.files import CORPUS
from tests.support.tiny import tiny_config


def checkpoint(folder, **overrides):
    """A tiny generator's checkpoint whose config has `overrides` (a mel convention, ...)."""
    cfg = tiny_config(**overrides)
    torch.manual_seed(0)
    path = folder / f"{overrides.get('mel_convention', 'official')}.pt"
    write_checkpoint(path, generator_payload(Generator(cfg).state_dict(), cfg))
    return path


def log_mel(t: int = 20, shift: float = 0.0) -> np.ndarray:
    """[BINS, t] float32 noise around -5 (an official-looking log-mel), plus `shift`."""
    return (np.random.default_rng(0).normal(-5, 1, (BINS, t)) + shift).astype(np.float32)


@pytest.fixture(scope="module")
def linear_power(tmp_path_factory):
    return checkpoint(tmp_path_factory.mktemp("lp"), mel_convention="linear-power")


def test_a_conversion_that_overflows_is_one_line_naming_the_file(linear_power, tmp_path, capsys):
    """An official mel 90 nats too loud overflows linear-power's exp(2 x): refused before anything is written, not
    an overflow warning and an internal ValueError; the Python API raises the same MelError."""
    np.save(tmp_path / "db90.npy", log_mel(shift=90.0))
    out = tmp_path / "out"
    code, _, err = run(capsys, "vocode", "-c", linear_power, "-o", out, "--mel-convention", "official",
                       tmp_path / "db90.npy")
    failed_cleanly(code, err, out, "db90.npy: the mel converted to the model's convention (linear-power) is not "
                   "finite (values too large?)")
    vocoder = Vocoder.from_checkpoint(linear_power).set_mel_convention("official")
    with pytest.raises(MelError, match=r"^the mel converted to the model's convention \(linear-power\) is not "
                                       r"finite"):
        vocoder(log_mel(shift=90.0))


@pytest.mark.parametrize("ref", ["nan", "inf", "0", "-1"])
def test_mel_db_ref_must_be_a_finite_number_above_zero(tmp_path, capsys, tiny_checkpoint, ref):
    """Its log is taken: nan/inf (an internal ValueError before) and 0 or less (a 'math domain error' before) are
    one line naming the option (a usage error), before any input is read."""
    np.save(tmp_path / "db.npy", log_mel(shift=-40.0))
    out = tmp_path / "out"
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", out, "--mel-convention", "db-ref",
                       f"--mel-db-ref={ref}", tmp_path / "db.npy")
    line = failed_cleanly(code, err, out, "argument --mel-db-ref: must be a number > 0")
    assert "db.npy" not in line


@pytest.mark.parametrize(("options", "problem"), [
    (["--mel-convention", "bogus"], "--mel-convention bogus: unknown convention 'bogus' (choose from "),
    (["--mel-convention", "db+ln"], "--mel-convention db+ln: name one convention (plus 'transposed'), got db, ln"),
    (["--mel-convention", "meanstd"], "--mel-convention meanstd needs the normalisation statistics (--mel-stats FILE)"),
    (["--mel-convention", "db-ref"], "--mel-convention db-ref needs the reference amplitude (--mel-db-ref REF); "),
    (["--mel-convention", "meanstd", "--mel-stats", "{none}"], "{none}: no such statistics file"),
    (["--mel-convention", "meanstd", "--mel-stats", "{minmax}"],
     "{minmax}: meanstd needs per-bin 'mean' and 'std' in --mel-stats"),
    (["--mel-convention", "minmax01", "--mel-stats", "{meanstd}"],
     "{meanstd}: minmax01 needs per-bin 'min' and 'max' in --mel-stats"),
])
def test_a_bad_mel_option_is_one_error_not_one_per_input(tmp_path, capsys, tiny_checkpoint, options, problem):
    """A mistake in --mel-convention or --mel-stats is the option's (or the statistics file's), said once: not 'N of
    N inputs are bad' listing it against every .npy input, which are fine."""
    files = {"none": tmp_path / "none.npz", "minmax": tmp_path / "minmax.npz", "meanstd": tmp_path / "meanstd.npz"}
    np.savez(files["minmax"], min=np.full(BINS, -11.5), max=np.zeros(BINS))
    np.savez(files["meanstd"], mean=np.full(BINS, -5.0), std=np.ones(BINS))
    for name in ("a", "b"):
        np.save(tmp_path / f"{name}.npy", log_mel())
    out = tmp_path / "out"
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", out, *(o.format(**files) for o in options),
                       tmp_path / "a.npy", tmp_path / "b.npy")
    line, said = failed_cleanly(code, err, out), problem.format(**files)
    assert line.startswith(f"hifigan vocode: error: {said}") and line.count(said) == 1


@pytest.fixture(scope="module")
def log10_frames_first(tmp_path_factory):
    """A speech clip's log10 mel (the tiny config's official mel / ln 10: its floor at -5) saved [frames, BINS],
    as ESPnet lays it out."""
    cfg = tiny_config()
    audio = load_audio(CORPUS / "LJ001-0002.wav", cfg.sampling_rate, resample=True)
    mel = MelSpectrogram(**cfg.mel_kwargs()).checked(audio).numpy() / math.log(10)
    path = tmp_path_factory.mktemp("espnet") / "espnet.npy"
    np.save(path, mel.T.copy())
    return path


def test_a_frames_first_log10_mel_is_pointed_to_transposed_log10(tmp_path, capsys, tiny_checkpoint,
                                                                 log10_frames_first):
    """--mel-convention log10 on a [T, BINS] mel: the shape hint keeps log10 (it said 'try transposed'); with
    --mel-convention transposed the warning's suggestion says transposed+log10 (it said 'log10', which fails on
    the shape): neither sends the user round in a circle."""
    out = tmp_path / "out"
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", out, "--mel-convention", "log10",
                       log10_frames_first)
    line = failed_cleanly(code, err, out, "espnet.npy")
    assert line.endswith("(as --mel-convention names it); convert: --mel-convention transposed+log10)")
    with pytest.warns(UserWarning, match=r"does not look like the model's mel \(official\)") as caught:
        code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", out, "--mel-convention", "transposed",
                           log10_frames_first)
    assert code == 0, err
    message = str(caught[0].message)
    assert message.endswith("convert: --mel-convention transposed+log10") and "transposed, log10" in message
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "ok", "--strict-mel",
                       "--mel-convention", "transposed+log10", log10_frames_first)
    assert code == 0 and err == "", err


def test_the_shape_hint_of_a_normalised_model_keeps_the_convention_given(tmp_path, capsys, log10_frames_first):
    """A model normalised by mel_stats was told 'try transposed+meanstd' for a log10 [T, BINS] mel given as
    log10: the hint names the convention given, read transposed."""
    ckpt = checkpoint(tmp_path, mel_stats={"mean": [-5.0] * BINS, "std": [2.0] * BINS})
    out = tmp_path / "out"
    code, _, err = run(capsys, "vocode", "-c", ckpt, "-o", out, "--mel-convention", "log10", log10_frames_first)
    assert failed_cleanly(code, err, out, "espnet.npy").endswith("convert: --mel-convention transposed+log10)")


def test_vocode_names_for_a_frames_first_mel_what_check_mel_names(tmp_path, capsys, tiny_checkpoint,
                                                                  log10_frames_first):
    """An undeclared [T, BINS] log10 mel: vocode's shape error said 'try --mel-convention transposed' (the model's
    own convention, read transposed) where check-mel names transposed+log10; vocode now gives check-mel's verdict."""
    code, out, _ = run(capsys, "check-mel", "--checkpoint", tiny_checkpoint, log10_frames_first)
    assert code == 1 and out.rstrip().endswith("; convert: --mel-convention transposed+log10")
    reading = out.split("): ", 1)[1].split(", confidence")[0]
    assert reading.startswith("transposed, log10 (")
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "out", log10_frames_first)
    assert failed_cleanly(code, err, tmp_path / "out", "espnet.npy").endswith(
        f"(a [frames, {BINS}] mel? read so: {reading}; convert: --mel-convention transposed+log10)")


def test_the_vocoder_names_for_a_frames_first_mel_what_vocode_names(tmp_path, capsys, tiny_checkpoint,
                                                                    log10_frames_first):
    """An undeclared [T, BINS] mel in memory: the Vocoder named only the layout (set_mel_convention('transposed'),
    the model's own convention read transposed) where vocode names check-mel's verdict; it now reads the same verdict
    from every entry point (transposed+log10 for a log10 mel; the model's own mel may also have its axes swapped), and
    the call it names vocodes the mel as vocode's option does."""
    code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "out", log10_frames_first)
    assert code == 2 and err.rstrip().endswith("; convert: --mel-convention transposed+log10)")
    reading = err.split("read so: ", 1)[1].split("; convert:")[0]
    log10 = np.load(log10_frames_first)
    vocoder = Vocoder.from_checkpoint(tiny_checkpoint)
    advice = re.escape(f" (a [T, {BINS}] mel? read so: {reading}; convert: set_mel_convention('transposed+log10'))")
    for call in (lambda: vocoder(log10), lambda: vocoder.batch([log10]), lambda: list(vocoder.stream([log10]))):
        with pytest.raises(MelError, match=rf"got \({log10.shape[0]}, {BINS}\){advice}$"):
            call()
    own = log10.T * math.log(10)  # the model's own (official) mel of the clip, [BINS, T]
    with pytest.raises(MelError, match=r"mel\? read so: transposed, official \(.*\); convert: "
                                       r"set_mel_convention\('transposed'\), or swap its last two axes\)$"):
        vocoder(own.T)
    expected = vocoder(own)
    assert torch.allclose(vocoder.set_mel_convention("transposed+log10")(log10), expected, rtol=0, atol=1e-5)


def test_a_normalised_model_s_own_frames_first_mel_needs_no_statistics_file(tmp_path, capsys):
    """A model normalised by mel_stats, its own mel saved [T, BINS]: check-mel and vocode name
    transposed+meanstd, which reads it with the model's statistics (check-mel asked for --mel-stats FILE too)."""
    stats = {"mean": [-5.0] * BINS, "std": [2.0] * BINS}
    ckpt = checkpoint(tmp_path, mel_stats=stats)
    path = tmp_path / "own.npy"
    np.save(path, ((log_mel(40) + 5) / 2).T.copy())
    code, out, _ = run(capsys, "check-mel", "--checkpoint", ckpt, path)
    assert code == 1 and out.rstrip().endswith("; convert: --mel-convention transposed+meanstd"), out
    code, _, err = run(capsys, "vocode", "-c", ckpt, "-o", tmp_path / "out", path)
    assert failed_cleanly(code, err, tmp_path / "out", "own.npy").endswith(
        "convert: --mel-convention transposed+meanstd)")
    code, _, err = run(capsys, "vocode", "-c", ckpt, "-o", tmp_path / "ok", "--strict-mel", "--mel-convention",
                       "transposed+meanstd", path)
    assert code == 0, err


def test_set_mel_convention_takes_a_statistics_file_as_mel_stats_does(tmp_path, tiny_checkpoint):
    """stats='stats.npz' (a str or a Path) is read as --mel-stats reads it (it ended in an AttributeError when a
    mel was vocoded): the normalised mel vocodes as the official one it came from."""
    mean, std = np.linspace(-6, -4, BINS), np.linspace(1, 2, BINS)
    np.savez(tmp_path / "stats.npz", mean=mean, std=std)
    official = log_mel()
    normalised = ((official - mean[:, None]) / std[:, None]).astype(np.float32)
    vocoder = Vocoder.from_checkpoint(tiny_checkpoint)
    expected = vocoder(official)
    for stats in (str(tmp_path / "stats.npz"), tmp_path / "stats.npz"):
        got = vocoder.set_mel_convention("meanstd", stats=stats)(normalised)
        assert float((got - expected).abs().max()) < 1e-5


def test_set_mel_convention_refuses_what_is_missing_or_wrong_when_called(tiny_checkpoint):
    """Named by the Python argument (not the CLI's --mel-stats FILE), at the call, not when a mel is vocoded."""
    vocoder = Vocoder.from_checkpoint(tiny_checkpoint)
    with pytest.raises(TypeError, match=r"^stats must be a statistics file .* or a MelStats, got int$"):
        vocoder.set_mel_convention("meanstd", stats=5)
    with pytest.raises(ValueError, match=r"^set_mel_convention\('meanstd'\) needs stats: ") as caught:
        vocoder.set_mel_convention("meanstd")
    assert "--" not in str(caught.value)
    with pytest.raises(ValueError, match=r"^set_mel_convention\('db-ref'\) needs db_ref: "):
        vocoder.set_mel_convention("db-ref")
    with pytest.raises(ValueError, match=r"^db_ref must be a number > 0, got 0$"):
        vocoder.set_mel_convention("db-ref", db_ref=0)
    # an unknown or doubled name said `--mel-convention bogus: ...`, the option of another caller
    for spec, said in [("bogus", "unknown convention 'bogus' (choose from official, "),
                       ("log10+db", "name one convention (plus 'transposed'), got log10, db")]:
        with pytest.raises(ValueError) as caught:
            vocoder.set_mel_convention(spec)
        assert str(caught.value).startswith(f"set_mel_convention({spec!r}): {said}")


def test_mel_stats_and_db_ref_with_a_convention_that_does_not_use_them_warn(tmp_path, capsys, tiny_checkpoint):
    """They were ignored without a word: one warning each naming the convention given; with the convention that
    uses them, none."""
    np.save(tmp_path / "m.npy", log_mel())
    np.savez(tmp_path / "s.npz", mean=np.zeros(BINS), std=np.ones(BINS))
    extra = ["--mel-stats", tmp_path / "s.npz", "--mel-db-ref", "2"]
    with pytest.warns(UserWarning) as caught:
        code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "a", *extra, tmp_path / "m.npy")
    assert code == 0, err
    unused = [str(w.message) for w in caught if "applies to" in str(w.message)]
    assert unused == [
        "--mel-stats applies to --mel-convention meanstd, minmax01 or minmax4 only, and no --mel-convention was "
        "given: ignored",
        "--mel-db-ref applies to --mel-convention db-ref only, and no --mel-convention was given: ignored"]
    with pytest.warns(UserWarning, match=r"--mel-db-ref applies to --mel-convention db-ref only, and "
                                         r"--mel-convention meanstd was given: ignored") as caught:
        code, _, err = run(capsys, "vocode", "-c", tiny_checkpoint, "-o", tmp_path / "b", "--mel-convention",
                           "meanstd", *extra, tmp_path / "m.npy")
    assert code == 0, err
    assert not any("--mel-stats applies" in str(w.message) for w in caught)


def test_set_mel_convention_checks_the_shape_before_per_bin_statistics_broadcast(tiny_checkpoint):
    """A [T] or [1, T] mel broadcast against meanstd's per-bin [BINS, 1] statistics and was vocoded as a [BINS, T]
    mel, silently; a [T, BINS] one ended in numpy's broadcast error. Each is the shape MelError, in the layout the
    caller was asked for ([T, BINS] under 'transposed'), from every entry point."""
    stats = MelStats(mean=np.full(BINS, -5.0), std=np.full(BINS, 2.0))
    vocoder = Vocoder.from_checkpoint(tiny_checkpoint).set_mel_convention("meanstd", stats=stats)
    mel = np.zeros((BINS, 20), np.float32)
    assert vocoder(mel).shape == (20 * vocoder.hop_size,)
    transposed = (rf" \(a \[T, {BINS}\] mel\? swap its last two axes, or declare its layout: "
                  r"set_mel_convention\('transposed\+meanstd', \.\.\.\)\)")
    for wrong, advice in ((mel[0], ""), (mel[:1], ""), (mel.T, transposed)):
        with pytest.raises(MelError, match=rf"^expected a mel of shape \[{BINS}, T\] or \[B, {BINS}, T\] with T >= 1, "
                                           rf"got {re.escape(str(wrong.shape))}{advice}$"):
            vocoder(wrong)
    with pytest.raises(MelError, match=rf"^mel 1: expected a mel of shape \[{BINS}, T\] with T >= 1, got \(1, 20\)$"):
        vocoder.batch([mel, mel[:1]])
    with pytest.raises(MelError, match=rf"^mel chunk 1: expected a mel of shape \[{BINS}, T\] or \[1, {BINS}, T\], "
                                       r"got \(20,\)$"):
        list(vocoder.stream([mel, mel[0]]))
    vocoder.set_mel_convention("transposed+meanstd", stats=stats)
    assert torch.equal(vocoder(mel.T), vocoder.set_mel_convention("meanstd", stats=stats)(mel))
    vocoder.set_mel_convention("transposed+meanstd", stats=stats)
    with pytest.raises(MelError, match=rf"^expected a mel of shape \[T, {BINS}\] or \[B, T, {BINS}\] with T >= 1, "
                                       rf"got \({BINS}, 20\) \(a \[{BINS}, T\] mel\? .*: "
                                       r"set_mel_convention\('meanstd', \.\.\.\)\)$"):
        vocoder(mel)


def test_set_mel_convention_takes_a_mel_that_requires_grad(tiny_checkpoint):
    """An acoustic model's output outside no_grad requires grad: with a convention set it ended in torch's 'Can't
    call numpy() on Tensor that requires grad' (without one it vocoded)."""
    vocoder = Vocoder.from_checkpoint(tiny_checkpoint).set_mel_convention("log10")
    mel = torch.from_numpy(log_mel() / math.log(10)).requires_grad_()
    want = vocoder(mel.detach())
    assert torch.equal(vocoder(mel), want)
    assert torch.equal(vocoder.batch([mel])[0], want)
    assert torch.allclose(torch.cat(list(vocoder.stream([mel]))), want, atol=1e-6)  # other windows: rounding
