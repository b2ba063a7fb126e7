"""save_audio and save_audio_chunks write one channel: any shape whose other axes are 1 ([1, 1, T] as a model gives
it), and refuse several channels, which flattening would have written interleaved as one channel twice as long."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from hifigan.audio import save_audio, save_audio_chunks, to_int16
from hifigan.errors import AudioError

RAMP = (np.arange(1000, dtype=np.float32) - 500) / 1000


@pytest.mark.parametrize("shape", [(1000,), (1, 1000), (1, 1, 1000), (1000, 1)])
def test_one_channel_in_any_shape_is_written_as_it_is(tmp_path, shape):
    save_audio(tmp_path / "a.wav", torch.from_numpy(RAMP.reshape(shape)), 22050)
    written, rate = sf.read(tmp_path / "a.wav", dtype="int16")
    assert rate == 22050 and written.shape == (1000,)
    assert np.array_equal(written, to_int16(RAMP))  # the flat ramp's samples, in order


@pytest.mark.parametrize("shape", [(500, 2), (2, 500), (1, 2, 500)])
def test_several_channels_are_refused_and_nothing_written(tmp_path, shape):
    with pytest.raises(AudioError) as e:
        save_audio(tmp_path / "a.wav", RAMP.reshape(shape), 22050)
    assert str(e.value) == (f"{tmp_path / 'a.wav'}: audio to write has shape {list(shape)}: one channel is written "
                            "([samples]); nothing written")
    with pytest.raises(AudioError):
        save_audio_chunks(tmp_path / "b.wav", [RAMP[:10], RAMP.reshape(shape)], 22050)
    assert list(tmp_path.iterdir()) == []
