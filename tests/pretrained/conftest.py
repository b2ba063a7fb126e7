"""`registered`: the tiny-test pretrained model installed (a fake distribution on sys.path) and registered; `wav`:
two clips at its rate."""

import pytest

from tests.support.files import write_clips
from tests.support.pretrained_fake import register


@pytest.fixture
def registered(tmp_path, monkeypatch, tiny80):
    return register(tmp_path, monkeypatch, tiny80)


@pytest.fixture
def wav(tmp_path, tiny80):
    return write_clips(tmp_path / "wavs", 2, sampling_rate=tiny80[0].sampling_rate)
