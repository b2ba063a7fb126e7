"""The upstream-derived presets against their recipes: each table below holds the upstream values, transcribed by
hand from the file and commit its comment names (no mirror or network is read here), in this project's keys.

A preset must equal its upstream table on every key, except those its recipe note says deliberately differ: there
it must equal its ours table (and the upstream value, where transcribed, must really differ). Keys: a config field,
a dotted path into it (discriminator_args, loss_weights), `mel.*` for the input front-end and `loss.*` for the mel
loss's (MelSpectrogram's arguments, defaults resolved, so the official floor reads 1e-5). Re-transcribe when a
recipe's commit moves.
"""

from __future__ import annotations

import functools
import inspect

import pytest

from hifigan.config import load_config
from hifigan.mel import MelSpectrogram
from hifigan.melconv.conventions import front_end_floor

PERIODS = {"discriminator_args.mpd.periods": [2, 3, 5, 7, 11]}
MSD = {"discriminator_args.msd.scales": 3, "discriminator_args.msd.pool_kernel_size": 4,
       "discriminator_args.msd.pool_stride": 2, "discriminator_args.msd.pool_padding": 2}
V1_BLOCKS = {"resblock": "1", "resblock_kernel_sizes": [3, 7, 11], "resblock_dilation_sizes": [[1, 3, 5]] * 3}
# The official HiFi-GAN front-end: ln(max(M, 1e-5)), (n_fft - hop) / 2 reflect padding, |X| = sqrt(power + 1e-9)
OFFICIAL_MEL = {"mel.convention": "official", "mel.floor": 1e-5, "mel.framing": "official", "mel.magnitude_eps": 1e-9}
PAPER_WEIGHTS = {"loss_weights.mel": 45.0, "loss_weights.fm": 2.0, "loss_weights.adv": 1.0}

# jik876/hifi-gan config_v1.json @ 4769534d45265d52a904b850da5a622601885777, keys batch_size .. lr_decay,
# upsample_*, resblock*, segment_size; train.py @ 4769534d: MPD + MSD, mel x 45, feature matching x 2 (no local
# mirror of it: the official V1's published values).
V1 = {"batch_size": 16, "learning_rate": 0.0002, "adam_b1": 0.8, "adam_b2": 0.99, "lr_decay": 0.999,
      "upsample_rates": [8, 8, 2, 2], "upsample_kernel_sizes": [16, 16, 4, 4], "upsample_initial_channel": 512,
      "segment_size": 8192, "discriminators": ["mpd", "msd"], **V1_BLOCKS, **MSD, **PAPER_WEIGHTS}

BIGVGAN_COMMIT = "2d448238a14f14ef1b5079be00646778604924da"
# NVIDIA/BigVGAN configs/bigvgan_v2_24khz_100band_256x.json @ 2d448238: lines 32 (mpd_reshapes), 42-52 (signal);
# meldataset.py @ 2d448238 lines 38-39 (ln, clip 1e-5), 73 and 77 (pad (n_fft - hop) / 2, center False), 80 (+1e-9),
# 153 (normalize(audio) * 0.95).
BIGVGAN_24K = {"sampling_rate": 24000, "n_fft": 1024, "hop_size": 256, "win_size": 1024, "num_freq": 1025,
               "num_mels": 100, "fmin": 0, "fmax": None, "fmax_for_loss": None, "audio_peak": 0.95, **PERIODS,
               **OFFICIAL_MEL}
# Same file, what the note replaces by V1's: lines 4, 5, 8, 11-13, 37 (lambda_melloss), 41.
BIGVGAN_24K.update({"batch_size": 4, "learning_rate": 0.0001, "lr_decay": 0.9999996,
                    "upsample_rates": [4, 4, 2, 2, 2, 2], "upsample_kernel_sizes": [8, 8, 4, 4, 4, 4],
                    "upsample_initial_channel": 1536, "segment_size": 65536, "loss_weights.mel": 15.0})

# NVIDIA/BigVGAN configs/bigvgan_v2_44khz_128band_512x.json @ 2d448238: lines 32, 42-52; meldataset.py as above.
BIGVGAN_44K = {"sampling_rate": 44100, "n_fft": 2048, "hop_size": 512, "win_size": 2048, "num_freq": 2049,
               "num_mels": 128, "fmin": 0, "fmax": None, "fmax_for_loss": None, "audio_peak": 0.95, **PERIODS,
               **OFFICIAL_MEL}
# Same file, what the note replaces by V1's: lines 4, 5, 8, 11-13, 37, 41.
BIGVGAN_44K.update({"batch_size": 4, "learning_rate": 0.0001, "lr_decay": 0.9999996,
                    "upsample_rates": [8, 4, 2, 2, 2, 2], "upsample_kernel_sizes": [16, 8, 4, 4, 4, 4],
                    "upsample_initial_channel": 1536, "segment_size": 65536, "loss_weights.mel": 15.0})
# The note: V1 for hop 512, upsampling 8x8x4x2 with kernels 2u, segment 16384 (32 frames, as V1's 8192 at hop 256).
V1_HOP512 = {**V1, "upsample_rates": [8, 8, 4, 2], "upsample_kernel_sizes": [16, 16, 8, 4], "segment_size": 16384}

# kan-bayashi/ParallelWaveGAN egs/libritts/voc1/conf/hifigan.v1.yaml @ d16a05018df9703d80e5e554ba802b7e24bf8b19:
# lines 15-23 features, 24 (global_gain_scale 1.0: audio as recorded),
# 38-47 generator, 57-64 MPD + MSD, 78 periods, 98-107 mel loss (log_base null: natural log),
# 121-123 weights, 128-129 batch and batch_max_steps, 140-141 lr and betas. parallel_wavegan/bin/preprocess.py
# @ d16a0501 lines 35-36, 224 (floor 1e-10, log10), 58-66 (librosa.stft, centred, reflect; |X|), 72 (floor on M);
# parallel_wavegan/losses/mel_loss.py @ d16a0501 lines 29, 32, 106 (power clamped, no additive eps), 109 (floor on M).
PWG = {"sampling_rate": 24000, "n_fft": 2048, "hop_size": 300, "win_size": 1200, "num_mels": 80, "fmin": 80,
       "fmax": 7600, "upsample_initial_channel": 512, "upsample_rates": [5, 5, 4, 3],
       "upsample_kernel_sizes": [10, 10, 8, 6], **V1_BLOCKS, "discriminators": ["mpd", "msd"], **MSD, **PERIODS,
       "mel.convention": "log10", "mel.floor": 1e-10, "mel.framing": "center", "mel.magnitude_eps": 0.0,
       "fmax_for_loss": 12000, "loss.fmin": 0, "loss.fmax": 12000, "loss.n_fft": 2048, "loss.hop_size": 300,
       "loss.win_size": 1200, "loss.num_mels": 80, "loss.convention": "ln-floor", "loss.floor": 1e-10,
       "loss.framing": "center", "loss.magnitude_eps": 0.0, **PAPER_WEIGHTS, "batch_size": 16,
       "segment_size": 8400, "learning_rate": 0.0002, "adam_b1": 0.5, "adam_b2": 0.9, "audio_peak": None}
# The note's differences: an exponential per-epoch decay (yaml 143-150: MultiStepLR, gamma 0.5 every 200k steps)
# and 1e-10 added to the loss's power (mel_loss.py 106 clamps it at 1e-10 instead).
PWG_OURS = {"lr_decay": 0.999, "loss.magnitude_eps": 1e-10}

# speechbrain/speechbrain recipes/LibriTTS/vocoder/hifigan/hparams/train.yaml @
# 602868ac4f5c2fa30bb22c4d8de7b1aa9e46c2a9: lines 32-44 audio, 49-53 optimiser, decay and batch, 82-87 generator,
# 136 n_stft, 138 loss mel_fmax null, 147-151 weights (MSE-G 1, feature matching 10, mel 45).
# speechbrain/lobes/models/HifiGAN.py @ 602868ac: lines 46-48 (ln, clamp 1e-5), 98-110 (torchaudio MelSpectrogram:
# centred, power 1 = |X|, no eps), 963-967 periods, 1046-1054 MSD, 1285-1319 (the loss's mel: the same |X|),
# 1368-1374 feature matching averaged; recipes/LibriTTS/vocoder/hifigan/train.py @ 602868ac lines 329-342 (audio as
# read, no peak normalisation).
SPEECHBRAIN = {"segment_size": 8192, "sampling_rate": 16000, "hop_size": 256, "win_size": 1024, "num_mels": 80,
               "n_fft": 1024, "fmin": 0, "fmax": 8000, "num_freq": 513, "fmax_for_loss": None,
               "learning_rate": 0.0002, "lr_decay": 0.9999, "adam_b1": 0.8, "adam_b2": 0.99, "batch_size": 64,
               **V1_BLOCKS, "upsample_kernel_sizes": [16, 16, 4, 4], "upsample_initial_channel": 512,
               "upsample_rates": [8, 8, 2, 2], "discriminators": ["mpd", "msd"], **PERIODS, **MSD,
               "mel.convention": "official", "mel.floor": 1e-5, "mel.framing": "center", "mel.magnitude_eps": 0.0,
               "loss.framing": "center", "loss.magnitude_eps": 0.0, "audio_peak": None,
               "loss_weights.mel": 45.0, "loss_weights.adv": 1.0, "loss_weights.fm": 10.0}
SPEECHBRAIN_OURS = {"loss_weights.fm": 2.0}  # HiFi-GAN's summed feature matching, weight 2

# haoheliu/versatile_audio_super_resolution audiosr/utilities/model.py @ 0c6a7ab7ea2e0c37c372a2e608fb56c468b9db3c
# lines 40-63 (get_vocoder_config_48k); audiosr/utils.py @ 0c6a7ab7 lines 21-22 (ln, clamp 1e-5), 100-106 (mel),
# 115-119 (pad (n_fft - hop) / 2), 129 (center False), 136 (|X|, no eps), 176-179 (normalize_wav: peak 0.5).
AUDIOSR = {"resblock": "1", "num_gpus": 8, "batch_size": 128, "learning_rate": 0.0001, "adam_b1": 0.8,
           "adam_b2": 0.99, "lr_decay": 0.999, "seed": 1234, "upsample_rates": [6, 5, 4, 2, 2],
           "upsample_kernel_sizes": [12, 10, 8, 4, 4], "upsample_initial_channel": 1536,
           "resblock_kernel_sizes": [3, 7, 11, 15], "resblock_dilation_sizes": [[1, 3, 5]] * 4,
           "segment_size": 15360, "num_mels": 256, "n_fft": 2048, "hop_size": 480, "win_size": 2048,
           "sampling_rate": 48000, "fmin": 20, "fmax": 24000, "fmax_for_loss": None,
           "mel.convention": "official", "mel.floor": 1e-5, "mel.framing": "official", "mel.magnitude_eps": 0.0,
           "audio_peak": 0.5}
# AudioSR publishes no discriminators or loss weights: the note's MPD + MSD and the paper's weights.
AUDIOSR_OURS = {"discriminators": ["mpd", "msd"], **PERIODS, **MSD, **PAPER_WEIGHTS}

# name: (project, file, commit, upstream values, ours where the note says the preset differs)
CASES = {
    "bigvgan-24k": ("NVIDIA/BigVGAN", "configs/bigvgan_v2_24khz_100band_256x.json", BIGVGAN_COMMIT, BIGVGAN_24K, V1),
    "bigvgan-44k": ("NVIDIA/BigVGAN", "configs/bigvgan_v2_44khz_128band_512x.json", BIGVGAN_COMMIT, BIGVGAN_44K,
                    V1_HOP512),
    "pwg-24k": ("kan-bayashi/ParallelWaveGAN", "egs/libritts/voc1/conf/hifigan.v1.yaml",
                "d16a05018df9703d80e5e554ba802b7e24bf8b19", PWG, PWG_OURS),
    "speechbrain-16k": ("speechbrain/speechbrain", "recipes/LibriTTS/vocoder/hifigan/hparams/train.yaml",
                        "602868ac4f5c2fa30bb22c4d8de7b1aa9e46c2a9", SPEECHBRAIN, SPEECHBRAIN_OURS),
    "audiosr-48k": ("haoheliu/versatile_audio_super_resolution",
                    "audiosr/utilities/model.py (get_vocoder_config_48k)",
                    "0c6a7ab7ea2e0c37c372a2e608fb56c468b9db3c", AUDIOSR, AUDIOSR_OURS),
}
NAMES = sorted(CASES)


@functools.cache
def preset_values(name: str) -> dict:
    """Every key the tables use, read from the preset as the project loads it."""
    cfg = load_config(name)
    values = dict(cfg.to_dict())
    defaults = {k: p.default for k, p in inspect.signature(MelSpectrogram).parameters.items()}
    for prefix, kwargs in (("mel", cfg.mel_kwargs()), ("loss", cfg.mel_kwargs(for_loss=True))):
        kwargs = {**defaults, **kwargs}
        kwargs["floor"] = front_end_floor(kwargs["convention"], kwargs["floor"])
        values.update({f"{prefix}.{key}": value for key, value in kwargs.items()})
    return values


def lookup(values: dict, key: str) -> object:
    if key in values:
        return values[key]
    for part in key.split("."):
        values = values[part]
    return values


def mismatches(name: str, table: dict) -> list[str]:
    values = preset_values(name)
    return [f"{key}: preset {lookup(values, key)!r}, expected {want!r}" for key, want in table.items()
            if lookup(values, key) != want]


@pytest.mark.parametrize("name", NAMES)
def test_recipe_block_names_the_transcribed_file(name):
    project, file, commit, *_ = CASES[name]
    recipe = load_config(name).recipe
    assert (recipe["project"], recipe["file"], recipe["commit"]) == (project, file, commit)


@pytest.mark.parametrize("name", NAMES)
def test_preset_equals_upstream_values(name):
    _, _, _, upstream, ours = CASES[name]
    assert mismatches(name, {k: v for k, v in upstream.items() if k not in ours}) == []


@pytest.mark.parametrize("name", NAMES)
def test_preset_keeps_documented_differences(name):
    _, _, _, upstream, ours = CASES[name]
    assert mismatches(name, ours) == []
    # where upstream's value is transcribed, the note's difference is real (else the note, or a table, is wrong)
    assert [k for k in ours if k in upstream and upstream[k] == ours[k]] == []


def test_bigvgan_44k_is_v1_scaled_to_hop_512():
    values = preset_values("bigvgan-44k")
    assert values["upsample_kernel_sizes"] == [2 * u for u in values["upsample_rates"]]
    assert values["segment_size"] // values["hop_size"] == V1["segment_size"] // 256 == 32
