"""`hifigan.load_audio` called from Python names its own arguments in a format hint (`resample=True`,
`mix_to_mono=True`), never the command line's options; the commands' readers pass cli=True and keep `--resample`."""

from __future__ import annotations

import re

import numpy as np
import pytest
import soundfile as sf

from hifigan import load_audio
from hifigan.errors import AudioError

FLAG = re.compile(r"--[a-z]")
TONE = (0.1 * np.sin(np.arange(800) / 7)).astype(np.float32)


def test_a_rate_hint_names_the_argument(tmp_path):
    path = tmp_path / "fast.wav"
    sf.write(path, TONE, 16000)
    with pytest.raises(AudioError) as e:
        load_audio(path, 8000)
    assert str(e.value) == f"{path}: sample rate is 16000 Hz, expected 8000 Hz (use resample=True)"
    with pytest.raises(AudioError) as e:
        load_audio(path, 8000, cli=True)  # what `hifigan vocode` / `mel` read with
    assert str(e.value).endswith("(use --resample)")


def test_a_channels_hint_names_the_argument(tmp_path):
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([TONE, TONE], axis=1), 8000)
    with pytest.raises(AudioError) as e:
        load_audio(path, 16000)  # both rules broken: both hints, in Python's words
    assert str(e.value) == (f"{path}: has 2 channels; only mono is supported (use mix_to_mono=True); sample rate is "
                            "8000 Hz, expected 16000 Hz (use resample=True)")
    assert not FLAG.search(str(e.value))
    assert load_audio(path, 8000, mix_to_mono=True).shape == (800,)


@pytest.mark.parametrize("rate", ["22050", 22050.0, 0, True])
def test_a_rate_that_is_no_whole_number_of_hz_is_refused_by_name(tmp_path, rate):
    """A rate read from a text file ("22050") said 'sample rate is 22050 Hz, expected 22050 Hz (use resample=True)'
    of a file at 22050 Hz; 0 and True were 'expected 0 Hz' and 'expected True Hz'."""
    path = tmp_path / "a.wav"
    sf.write(path, TONE, 22050)
    with pytest.raises(ValueError, match=rf"^sampling_rate must be an integer >= 1, got {re.escape(repr(rate))}$"):
        load_audio(path, rate)
    assert load_audio(path, np.int64(22050)).shape == (800,)  # numpy's integers are ints
