"""A config's geometry is exact or refused at load time: every upsampling stage turns L samples into exactly L x
rate (or is refused in one line naming the key and a kernel that works), every residual convolution keeps the
length, and the official framing needs an even n_fft - hop_size."""

import json
import math
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from hifigan.arrays.upsampling import transposed_padding
from hifigan.audio import find_audio
from hifigan.config import config_from_dict, load_config
from hifigan.data.clip_scan import scan_clips
from hifigan.data.dataset import VocoderDataset
from hifigan.errors import ConfigError
from hifigan.mel import MelSpectrogram
from hifigan.models import Generator
from hifigan.models.generator import ResBlock1, ResBlock2
from tests.support.tiny import stft_for_hop, tiny_config


def _upsampling(rates: list[int], kernels: list[int]) -> dict:
    """Tiny config values with these upsampling stages."""
    hop = math.prod(rates)
    return {**tiny_config().to_dict(), "upsample_rates": rates, "upsample_kernel_sizes": kernels,
            "segment_size": 8 * hop, **stft_for_hop(hop)}


def _suggestion(error: ConfigError) -> int:
    """The value a geometry error says to use (its one line ends "use N")."""
    return int(re.fullmatch(r".*; use (\d+)\)?", str(error)).group(1))


def _covers(rate: int, kernel: int, padding: int, output_padding: int, length: int) -> bool:
    """Whether a real ConvTranspose1d turns `length` samples into exactly length x rate, each reached by a tap
    (all-ones weights on ones: a sample no tap reaches is 0, the bias alone)."""
    conv = nn.ConvTranspose1d(1, 1, kernel, rate, padding, output_padding, bias=False)
    nn.init.ones_(conv.weight)
    try:
        with torch.no_grad():
            out = conv(torch.ones(1, 1, length))
    except RuntimeError:  # PyTorch refuses an output padding >= the stride, or an empty output
        return False
    return out.shape[-1] == length * rate and bool((out > 0).all())


@settings(max_examples=120, deadline=None)
@given(rate=st.integers(1, 12), kernel=st.integers(1, 32), length=st.integers(1, 40))
def test_an_upsampling_is_exact_or_refused_naming_a_kernel_that_is(rate, kernel, length):
    """Accepted: the padding and output padding of `transposed_padding` (which the generator builds) turn L
    samples into exactly L x rate, every one reached by a tap, with the official (k - u) // 2 wherever that is
    exact. Refused: no choice would do (kernel < rate leaves samples no tap reaches; rate 1 allows no output
    padding, so k - 1 must be even), in one line naming the key and a kernel that is accepted."""
    try:
        tiny_config(**_upsampling([4, rate], [8, kernel]))
    except ConfigError as e:
        assert "\n" not in str(e)
        assert str(e).startswith(f"upsample_kernel_sizes[1] = {kernel} with upsample_rates[1] = {rate}: ")
        # padding p > (k - 1) / 2 leaves fewer than L x rate samples; PyTorch wants output padding < rate
        assert not any(_covers(rate, kernel, p, q, length) for p in range(kernel // 2 + 1) for q in range(rate))
        assert kernel < rate or (rate == 1 and kernel % 2 == 0)
        with pytest.raises(ValueError):
            transposed_padding(rate, kernel)
        tiny_config(**_upsampling([4, rate], [8, _suggestion(e)]))  # the suggested kernel is accepted
        return
    padding, output_padding = transposed_padding(rate, kernel)
    assert _covers(rate, kernel, padding, output_padding, length)
    if (kernel - rate) % 2 == 0:
        assert (padding, output_padding) == ((kernel - rate) // 2, 0)  # the official padding


def test_a_geometry_without_an_exact_padding_is_refused_at_load_time(tmp_path):
    """In one line naming the file, the key and a kernel to use; the generator then builds that kernel exactly."""
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(_upsampling([5, 3], [10, 2])))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == (f"{path}: upsample_kernel_sizes[1] = 2 with upsample_rates[1] = 3: kernel 2 is shorter "
                              f"than its rate 3 (some output samples would see no input); use 6")
    path.write_text(json.dumps(_upsampling([5, 3], [10, _suggestion(err.value)])))
    cfg = load_config(path)
    ups = Generator(cfg).ups
    assert [(up.padding[0], up.output_padding[0]) for up in ups] == [(3, 1), (2, 1)]
    with torch.no_grad():
        assert ups[1](ups[0](torch.randn(1, 32, 7))).shape == (1, 8, 7 * 15)


def test_kernel_twice_the_rate_is_accepted_for_every_rate_but_1():
    """k = 2u, the usual choice, is exact for u >= 2 (official padding for even u, one output sample more for
    odd u); for u = 1 it is not (2p - q = 1 needs q = 1, and PyTorch wants q < the stride): 3 is suggested."""
    for rate in range(2, 65):
        padding, output_padding = transposed_padding(rate, 2 * rate)
        assert 2 * padding - output_padding == rate and output_padding == rate % 2
        tiny_config(**_upsampling([rate, 2], [2 * rate, 4]))
    with pytest.raises(ConfigError, match=r"^upsample_kernel_sizes\[1\] = 2 with upsample_rates\[1\] = 1: ") as err:
        tiny_config(**_upsampling([4, 1], [8, 2]))
    assert _suggestion(err.value) == 3 and transposed_padding(1, 3) == (1, 0)


@settings(max_examples=50, deadline=None)
@given(resblock=st.sampled_from("12"), kernel=st.integers(1, 16), dilation=st.integers(1, 8), extra=st.integers(1, 40))
def test_a_residual_kernel_keeps_the_length_or_is_refused(resblock, kernel, dilation, extra):
    """Every convolution of a residual block must keep the length ('same' padding): (kernel - 1) x dilation even,
    for resblock 1 also with dilation 1 (its second convolutions); refused in one line naming the key, the
    dilation and an accepted kernel."""
    values = {"resblock_kernel_sizes": [3, kernel], "resblock_dilation_sizes": [[1, 3], [dilation]]}
    block = (ResBlock1 if resblock == "1" else ResBlock2)(1, kernel, (dilation,))
    length = (kernel - 1) * dilation + extra  # at least the kernel's span, so even an unpadded one runs
    with torch.no_grad():
        kept = all(c(torch.ones(1, 1, length)).shape[-1] == length for c in block.modules() if isinstance(c, nn.Conv1d))
    try:
        tiny_config(resblock, **values)
    except ConfigError as e:
        assert not kept and "\n" not in str(e)
        assert re.match(rf"resblock_kernel_sizes\[1\] = {kernel} with dilation \d .*cannot keep the length", str(e))
        tiny_config(resblock, **{**values, "resblock_kernel_sizes": [3, _suggestion(e)]})
        return
    assert kept


@pytest.mark.filterwarnings("ignore")  # clips shorter than a segment: the scan says so
def test_an_odd_rate_training_segment_generates_exactly_its_samples(tiny_corpus):
    """A training item's mel (segment_size // hop frames) gives exactly segment_size samples, so the train step's
    loss mel of the generated audio has the item's frames (rates [3, 5, 2]: two stages with output padding)."""
    cfg = tiny_config("1", upsample_rates=[3, 5, 2], upsample_kernel_sizes=[6, 10, 4], hop_size=30, segment_size=480)
    dataset = VocoderDataset(scan_clips(find_audio(tiny_corpus), cfg, cli=True).clips, cfg, train=True, cli=True)
    generator = Generator(cfg)
    loss_mel = MelSpectrogram(**cfg.mel_kwargs(for_loss=True))
    for i in range(len(dataset)):
        mel, audio, mel_target, _ = dataset[i]
        assert mel.shape == (cfg.num_mels, 16) and audio.shape == (480,)
        with torch.no_grad():
            generated = generator(mel[None])
        assert generated.shape == (1, 1, 480) and loss_mel(generated[:, 0]).shape == (1, *mel_target.shape)


def test_official_framing_with_an_odd_n_fft_minus_hop_is_refused():
    """(n_fft - hop) // 2 per side rounds down: a segment of F hops would give F - 1 frames and the generated audio
    would miss a hop (the train step fails). Refused in one line naming the keys and an n_fft that works."""
    odd = dict(upsample_rates=[5, 3, 17], upsample_kernel_sizes=[10, 6, 34], hop_size=255, segment_size=255 * 8)
    with pytest.raises(ConfigError, match=r"n_fft - hop_size \(1024 - 255\) is odd.*use n_fft 1025$"):
        config_from_dict(odd)
    cfg = config_from_dict({**odd, "n_fft": 1025})
    assert MelSpectrogram(**cfg.mel_kwargs()).num_frames(cfg.segment_size) == 8
    assert config_from_dict({**odd, "mel_framing": "center"}).mel_framing == "center"  # centred frames: any n_fft
