"""`registered`: the tiny-test pretrained model installed (a fake distribution on sys.path) and registered."""

import pytest

from tests.support.pretrained_fake import register


@pytest.fixture
def registered(tmp_path, monkeypatch, tiny80):
    return register(tmp_path, monkeypatch, tiny80)
