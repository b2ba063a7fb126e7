"""Known-answer tests of the metrics: identical audio, a gain change, a pitch shift, added noise, a delay."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.config import load_config
from hifigan.errors import AudioError, HifiganError
from hifigan.evaluation.metrics import METRICS, compute_metrics
from hifigan.evaluation.pairing import align, match_lengths
from hifigan.evaluation.perceptual import estoi, pesq_mos, snr, stoi
from hifigan.evaluation.pitch import DEFAULT_PITCH, PitchTrack, f0_rmse_cents, periodicity_rmse, pitch_track, vuv_f1
from hifigan.evaluation.spectral import log_mel_cepstral_distortion, mel_cepstrum
from tests.support.signals import SR, harmonic, speechlike, with_noise_at_snr

CONFIG = load_config("v1")  # 22.05 kHz, hop 256: the metrics run at the official settings


@pytest.fixture(scope="module")
def voice() -> np.ndarray:
    return speechlike()


def test_identical_audio_gives_perfect_values(voice):
    values = compute_metrics(voice, voice.copy(), CONFIG)
    assert list(values) == list(METRICS)
    for name in ("mel_l1", "mrstft", "mcd", "lsd", "f0_rmse_cents", "periodicity_rmse"):
        assert values[name] == pytest.approx(0.0, abs=1e-9), name
    assert values["snr"] == 100.0  # the documented cap
    assert values["pesq"] == pytest.approx(4.644, abs=1e-3)  # the wide-band MOS-LQO maximum
    assert values["stoi"] == pytest.approx(1.0, abs=1e-6)
    assert values["estoi"] == pytest.approx(1.0, abs=1e-6)
    assert values["vuv_f1"] == 1.0


def test_half_gain_gives_the_known_level_differences(voice):
    """Halving the amplitude shifts every log magnitude by ln 2 (6.02 dB) and leaves the cepstral shape alone."""
    values = compute_metrics(voice, 0.5 * voice, CONFIG, ["mel_l1", "mrstft", "mcd", "lsd", "snr", "pesq"])
    assert values["mel_l1"] == pytest.approx(math.log(2), rel=1e-4)
    assert values["mrstft"] == pytest.approx(0.5 + math.log(2), rel=1e-4)  # SC = 0.5, log-magnitude L1 = ln 2
    assert values["lsd"] == pytest.approx(20 * math.log10(2), rel=1e-4)
    assert values["snr"] == pytest.approx(10 * math.log10(4), rel=1e-6)  # noise = x/2
    assert values["mcd"] == pytest.approx(0.0, abs=1e-4)  # gain is c0 only, which MCD excludes
    assert values["pesq"] == pytest.approx(4.644, abs=1e-3)  # PESQ aligns levels first


def test_intelligibility_and_pitch_metrics_ignore_the_level(voice):
    """The gain-invariant metrics the evaluation page lists (besides MCD and PESQ, above): STOI/ESTOI normalise
    each segment's energy, pYIN's difference function is normalised by its cumulative mean. One gain: each metric
    is scale-free by construction, so a second would test the same arithmetic (and pay pYIN twice)."""
    values = compute_metrics(voice, 0.5 * voice, CONFIG, ["stoi", "estoi", "f0_rmse_cents", "vuv_f1",
                                                          "periodicity_rmse"])
    assert values["stoi"] == pytest.approx(1.0, abs=1e-6) and values["estoi"] == pytest.approx(1.0, abs=1e-6)
    assert values["f0_rmse_cents"] == 0.0 and values["vuv_f1"] == 1.0
    assert values["periodicity_rmse"] == pytest.approx(0.0, abs=1e-6)


def test_mel_cepstrum_follows_the_documented_convention():
    """log-mel = c0 + 2 c3 cos(3 w_n), w_n = pi (2n+1) / 2N  ->  c_1..c_D = (0, 0, c3, 0, ...)."""
    n = 80
    w = np.pi * (2 * np.arange(n) + 1) / (2 * n)
    log_mel = (-4.0 + 2 * 0.7 * np.cos(3 * w))[:, None].repeat(5, axis=1)
    c = mel_cepstrum(log_mel, 24)
    expected = np.zeros(24)
    expected[2] = 0.7
    np.testing.assert_allclose(c, expected[:, None].repeat(5, axis=1), atol=1e-12)


def test_mcd_of_a_known_cepstral_difference():
    """Frames that differ by 2 c3 cos(3 w_n) with c3 = 0.1 (and by a gain, c0, in every other frame):
    MCD = (10 / ln 10) sqrt(2 * 0.1^2) = 0.6141 dB in the frames that differ, 0 in the others."""
    n = 80
    w = np.pi * (2 * np.arange(n) + 1) / (2 * n)
    ref = np.full((n, 6), -4.0)
    gen = ref + np.where(np.arange(6) % 2 == 0, 2 * 0.1 * np.cos(3 * w)[:, None], 1.5)
    expected = 10 / math.log(10) * math.sqrt(2 * 0.1**2) / 2  # the mean over frames: half of them differ
    assert log_mel_cepstral_distortion(ref, gen, 24) == pytest.approx(expected, rel=1e-12)


def test_lsd_is_the_mean_over_frames_of_each_frames_rms(voice):
    """The second half at half gain: its frames are 20 log10 2 = 6.02 dB off in every bin, the first half's 0 dB,
    so the mean over frames is 3.01 dB (the frames across the boundary add a little); the RMS over frames first
    would give 6.02 / sqrt 2 = 4.26."""
    half = voice.copy()
    half[len(half) // 2:] *= 0.5
    values = compute_metrics(voice, half, CONFIG, ["lsd"])
    assert values["lsd"] == pytest.approx(20 * math.log10(2) / 2, abs=0.03)


def test_snr_is_capped_at_100_db(voice):
    x = voice.astype(np.float64)
    tiny = x + 1e-7 * np.random.default_rng(0).standard_normal(len(x))  # about 120 dB
    assert 110 < 10 * math.log10(np.sum(x**2) / np.sum((x - tiny) ** 2)) and snr(x, tiny) == 100.0
    assert math.isnan(snr(np.zeros(100), x[:100]))


@pytest.mark.parametrize("cents", [-50, 100, 300])
def test_pitch_shift_gives_that_f0_error(cents):
    """pYIN quantises F0 to 10-cent bins; at a bin centre (50 Hz * 2^(k/120)) the error is exact to one bin."""
    f0 = DEFAULT_PITCH.fmin * 2 ** (240 / 120)  # 200 Hz, a pYIN bin centre
    ref = pitch_track(harmonic(f0), SR, CONFIG.hop_size)
    gen = pitch_track(harmonic(f0 * 2 ** (cents / 1200)), SR, CONFIG.hop_size)
    assert f0_rmse_cents(ref, gen) == pytest.approx(abs(cents), abs=10.0)
    assert vuv_f1(ref, gen) == 1.0
    assert periodicity_rmse(ref, gen) < 0.05  # both steady tones are equally periodic


def test_a_voice_voiced_throughout_is_voiced_in_every_frame(voice):
    """speechlike() is harmonic at every instant (its envelope touches zero only at isolated samples)."""
    track = pitch_track(voice, SR, CONFIG.hop_size)
    assert len(track.voiced) == len(voice) // CONFIG.hop_size + 1 and track.voiced.all()


def test_noise_against_a_tone_is_aperiodic_and_unvoiced():
    ref = pitch_track(harmonic(200.0), SR, CONFIG.hop_size)
    noise = (0.1 * np.random.default_rng(1).standard_normal(SR)).astype(np.float32)
    gen = pitch_track(noise, SR, CONFIG.hop_size)
    assert periodicity_rmse(ref, gen) > 0.5
    assert vuv_f1(ref, gen) < 0.5


def test_pitch_scores_on_constructed_tracks():
    """F1 = 2TP / (2TP + FP + FN) with the reference as truth; F0 RMSE only over frames voiced in both."""
    ref_voiced = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=bool)
    gen_voiced = np.array([1, 1, 0, 0, 1, 0, 0, 0], dtype=bool)  # TP 2, FN 2, FP 1
    f0 = np.where(ref_voiced, 100.0, np.nan)
    ref = PitchTrack(f0, ref_voiced, ref_voiced.astype(float))
    gen = PitchTrack(np.where(gen_voiced, 200.0, np.nan), gen_voiced, np.zeros(8))
    assert vuv_f1(ref, gen) == pytest.approx(4 / 7)
    assert f0_rmse_cents(ref, gen) == pytest.approx(1200.0)  # one octave on the two shared frames
    assert periodicity_rmse(ref, gen) == pytest.approx(math.sqrt(0.5))
    silent = PitchTrack(np.full(8, np.nan), np.zeros(8, bool), np.zeros(8))
    assert math.isnan(vuv_f1(silent, silent)) and math.isnan(f0_rmse_cents(silent, silent))


@settings(max_examples=30, deadline=None)
@given(snr_db=st.floats(-10, 60), seed=st.integers(0, 2**16))
def test_added_white_noise_at_a_known_snr_gives_that_snr(voice, snr_db, seed):
    noisy = with_noise_at_snr(voice, snr_db, seed)
    assert snr(voice, noisy) == pytest.approx(snr_db, abs=1e-3)  # float32 input rounding only


def test_added_noise_lowers_the_perceptual_scores(voice):
    """ESTOI is pystoi's extended STOI (not STOI: it falls further on noise)."""
    import pystoi

    noisy = with_noise_at_snr(voice, 10.0, 0).astype(np.float32)
    values = compute_metrics(voice, noisy, CONFIG, ["snr", "pesq", "stoi", "estoi"])
    assert values["snr"] == pytest.approx(10.0, abs=1e-3)
    assert 1.0 < values["pesq"] < 3.5 and values["stoi"] < 0.99
    assert values["estoi"] == pytest.approx(pystoi.stoi(voice, noisy, SR, extended=True), abs=1e-9)
    assert values["estoi"] < values["stoi"]


def test_one_sample_delay_is_measured_as_is_by_default(voice):
    """Default: no alignment. Magnitude metrics barely move; SNR is the sample-exact value."""
    late = np.concatenate([[0.0], voice[:-1]]).astype(np.float32)
    values = compute_metrics(voice, late, CONFIG, ["mel_l1", "mcd", "pesq", "stoi", "snr"])
    x = voice.astype(np.float64)
    expected_snr = 10 * math.log10(np.sum(x**2) / np.sum((x - late.astype(np.float64)) ** 2))
    assert values["snr"] == pytest.approx(expected_snr, abs=1e-4)
    assert values["snr"] < 20
    assert values["mel_l1"] < 0.01 and values["mcd"] < 0.05
    assert values["pesq"] > 4.5 and values["stoi"] > 0.999


@pytest.mark.parametrize("delay", [1, -1])
def test_one_sample_delay_is_removed_with_max_shift(voice, delay):
    shifted = np.roll(voice, delay)  # delay > 0: generated is late
    values = compute_metrics(voice, shifted, CONFIG, ["mel_l1", "snr"], max_shift=2)
    assert values["snr"] == 100.0  # the cap: identical after alignment (the wrapped sample is cut off)
    assert values["mel_l1"] == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(lag=st.integers(-4, 4), seed=st.integers(0, 2**16))
def test_align_recovers_any_lag_within_max_shift(lag, seed):
    x = np.random.default_rng(seed).standard_normal(500).astype(np.float32)
    y = np.roll(x, lag)
    ref, gen, found = align(x, y, max_shift=4)
    assert found == lag
    np.testing.assert_array_equal(ref, gen)  # the overlap, without the wrapped-around samples
    assert len(ref) == 500 - abs(lag)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(100, 400), diff=st.integers(-300, 300))
def test_lengths_within_one_hop_are_trimmed_and_larger_differences_fail(n, diff):
    ref, gen = np.zeros(n + 300), np.zeros(n + 300 + diff)
    if abs(diff) <= CONFIG.hop_size:
        a, b = match_lengths(ref, gen, CONFIG.hop_size)
        assert len(a) == len(b) == min(len(ref), len(gen))
    else:
        with pytest.raises(HifiganError, match=r"lengths differ by \d+ samples") as info:
            match_lengths(ref, gen, CONFIG.hop_size, "b.wav (vs a.wav)")
        assert info.value.path == "b.wav (vs a.wav)"


def test_compute_metrics_checks_its_inputs(voice):
    with pytest.raises(HifiganError, match="unknown metric"):
        compute_metrics(voice, voice, CONFIG, ["mel_l1", "bogus"])
    with pytest.raises(HifiganError, match="lengths differ by 257 samples"):
        compute_metrics(voice, voice[:-257], CONFIG, ["snr"])
    with pytest.raises(HifiganError, match="too short: 1000 samples, the metrics need at least 2048"):
        compute_metrics(voice[:1000], voice[:1000], CONFIG, ["snr", "mrstft"])
    assert list(compute_metrics(voice, voice[:-256], CONFIG, ["snr", "mel_l1"])) == ["mel_l1", "snr"]



def test_compute_metrics_refuses_what_a_file_would_be_refused_for(voice):
    """NaN or inf samples (a diverged generator's) were scored: SNR 100 dB, the best there is, and the pitch metrics
    a librosa traceback; a stereo [T, 2] or a [B, T] batch was read as one signal of its samples in a row."""
    noisy = voice + np.float32(0.01)
    broken = noisy.copy()
    broken[100] = np.nan
    for ref, gen, said in [
        (voice, broken, "x: the generated audio contains non-finite samples (NaN or inf)"),
        (np.where(voice > 0.3, np.inf, voice), noisy, "x: the recording contains non-finite samples (NaN or inf)"),
        (voice.astype(np.float64) * 1e40, noisy, "x: the recording has samples beyond the float32 range"),
        (np.stack([voice, voice], 1), np.stack([noisy, noisy], 1),
         f"x: the recording has shape ({len(voice)}, 2): expected one mono signal [T] (or [1, T])"),
        (voice, torch.from_numpy(np.stack([noisy, noisy])),
         f"x: the generated audio has shape (2, {len(voice)}): expected one mono signal [T] (or [1, T])"),
        # int16 PCM values (soundfile's dtype="int16") were scored as floats, a signal 90 dB above the other
        ((voice * 32767).astype(np.int16), noisy, "x: the recording has dtype int16: expected float samples in "
                                                  "[-1, 1] (int16 sample values? divide by 32768)"),
        (voice, torch.from_numpy(noisy > 0), "x: the generated audio has dtype bool: expected float samples in"),
    ]:
        with pytest.raises(AudioError) as e:
            compute_metrics(ref, gen, CONFIG, ["snr", "vuv_f1"], source="x")
        assert str(e.value).startswith(said)
    alone = compute_metrics(voice, noisy, CONFIG, ["snr"])
    assert compute_metrics(voice[None], torch.from_numpy(noisy)[:, None], CONFIG, ["snr"]) == alone  # [1, T], [T, 1]
    # a bfloat16 tensor (numpy has no such dtype: torch's TypeError) is scored as its float32 values
    rounded = torch.from_numpy(noisy).bfloat16()
    assert compute_metrics(voice, rounded, CONFIG, ["snr"]) == compute_metrics(voice, rounded.float(), CONFIG, ["snr"])

def test_undefined_values_are_nan_not_errors(voice):
    silence = np.zeros_like(voice)
    assert math.isnan(pesq_mos(silence, silence, SR)) and math.isnan(pesq_mos(voice, silence, SR))
    assert math.isnan(stoi(silence, voice, SR)) and math.isnan(estoi(silence, voice, SR))
    assert math.isnan(stoi(voice[:4000], voice[:4000], SR))  # fewer than 30 non-silent STOI frames
    assert math.isnan(snr(silence, voice))


def test_silent_generated_audio_is_scored_worst_where_pesq_cannot_score_it(voice):
    """The evaluation page's note: PESQ leaves digital silence out (NaN), the others score it as the worst."""
    values = compute_metrics(voice, np.zeros_like(voice), CONFIG, ["snr", "pesq", "stoi", "vuv_f1"])
    assert math.isnan(values["pesq"])
    assert values["stoi"] == 0.0 and values["vuv_f1"] == 0.0 and values["snr"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("delay", [0, 2])
def test_polarity_inverted_audio_keeps_its_delay_and_snr_reports_the_inversion(voice, delay):
    """The lag is chosen by |correlation|: -x is aligned like x (not pushed to the edge of the range), so the
    magnitude metrics stay perfect and the SNR (sample-exact) honestly says -6.02 dB: the error is 2x."""
    inverted = -np.roll(voice, delay)
    _, _, found = align(voice, inverted, max_shift=20)
    assert found == delay
    values = compute_metrics(voice, inverted, CONFIG, ["mel_l1", "snr"], max_shift=20)
    assert values["mel_l1"] == pytest.approx(0.0, abs=1e-9)
    assert values["snr"] == pytest.approx(-10 * math.log10(4), abs=1e-6)


def test_digital_silence_is_not_shifted_to_the_edge_of_max_shift(voice):
    """No lag correlates with silence (a collapsed run): every lag ties at 0, and the smallest delay, none, wins.
    The first lag searched (-max_shift) used to win: the pair was cut by 10 samples, reported as shifted by -10
    and warned about as aligned at the limit."""
    silence = np.zeros_like(voice)
    for ref, gen in ((voice, silence), (silence, voice), (silence, silence)):
        a, b, found = align(ref, gen, max_shift=10)
        assert found == 0 and len(a) == len(b) == len(voice)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "aligned at the limit of max_shift=10"
        assert compute_metrics(voice, silence, CONFIG, ["snr"], max_shift=10)["snr"] == pytest.approx(0.0, abs=1e-9)


def test_estoi_is_the_same_bits_whatever_numpy_s_generator_holds_and_leaves_it_as_it_was(voice):
    # pystoi's ESTOI adds eps-sized noise drawn from numpy's global generator: its last bits followed that state
    # (the pair scored before, a worker process's copy of it) and it moved the caller's random stream
    noisy = with_noise_at_snr(voice, 20.0, 1)
    values = set()
    for seed in (0, 1, 2):
        np.random.seed(seed)
        before = np.random.get_state()[1].copy()
        values.add(estoi(voice, noisy, SR))
        assert np.array_equal(np.random.get_state()[1], before)
    assert len(values) == 1
