"""MelSpectrogram built directly (not from a config, which checks at load) refuses a framing it does not know with
the config's names for it, instead of framing the audio some default way; both known framings build and frame."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.errors import ConfigError
from hifigan.mel import MelSpectrogram

GEOMETRY = dict(n_fft=64, num_mels=8, sampling_rate=8000, hop_size=16, win_size=64, fmin=0.0, fmax=None)


@settings(max_examples=25, deadline=None)
@given(framing=st.one_of(st.text(max_size=8), st.none(), st.integers(), st.sampled_from(["Official", "centre"])))
def test_an_unknown_framing_is_a_config_error_naming_the_keys(framing):
    if framing in ("official", "center"):
        return
    with pytest.raises(ConfigError, match=r"^mel_framing \(or loss_args\['mel'\]\['framing'\]\) .* is unknown; "
                                          r"choose from official, center$"):
        MelSpectrogram(**GEOMETRY, framing=framing)


@pytest.mark.parametrize(("framing", "frames"), [("official", 160 // 16), ("center", 1 + 160 // 16)])
def test_the_known_framings_frame_as_documented(framing, frames):
    mel = MelSpectrogram(**GEOMETRY, framing=framing)(torch.randn(1, 160, generator=torch.Generator().manual_seed(0)))
    assert mel.shape == (1, 8, frames)
