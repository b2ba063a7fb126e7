"""The mel conversions' refusals from Python (to_nats, to_official, a model's convert) name the Python argument (spec=,
stats=, db_ref=), not the command's option a Python caller has not got."""

import numpy as np
import pytest

from hifigan.melconv import MelStats, to_official
from hifigan.melconv.conventions import to_nats
from hifigan.melconv.model import ModelMel
from tests.support.tiny import tiny_config


def test_what_a_map_needs_is_named_as_the_python_argument():
    """Not given the statistics or the dB reference, to_nats and to_official name `stats=` and `db_ref=`, where they
    said the command's options (--mel-stats FILE, --mel-db-ref REF), which a Python caller has not got."""
    mel = np.zeros((80, 4), np.float32)
    for convert in (to_nats, to_official):
        with pytest.raises(ValueError) as info:
            convert(mel, "transposed+meanstd")
        assert str(info.value) == "spec='transposed+meanstd' needs stats=: the statistics of the mels' normalisation"
        with pytest.raises(ValueError) as info:
            convert(mel, "db-ref")
        assert str(info.value) == ("spec='db-ref' needs db_ref=: the reference amplitude of the dB values (a "
                                   "per-utterance ref=np.max is lost unless it was saved)")


def test_statistics_lacking_what_the_convention_needs_are_named_as_the_python_argument():
    """Statistics of the other normalisation given: to_nats, to_official and a model's convert name `stats=` (the
    argument a Python caller passed), where they said vocode's --mel-stats; vocode names its option itself."""
    mel = np.zeros((80, 4), np.float32)
    bins = np.zeros(80)
    cases = [("meanstd", MelStats(low=bins, high=bins + 1), "meanstd needs per-bin 'mean' and 'std' in stats="),
             ("minmax4", MelStats(mean=bins, std=bins + 1), "minmax4 needs per-bin 'min' and 'max' in stats=")]
    model = ModelMel.of(tiny_config(num_mels=80, n_fft=256))
    for spec, stats, said in cases:
        for convert in (to_nats, to_official, model.convert):
            with pytest.raises(ValueError) as info:
                convert(mel, spec, stats)
            assert str(info.value) == said


def test_an_unknown_convention_names_the_python_argument():
    """to_nats and to_official are Python functions: their refusal names `spec=`, not the command's option."""
    mel = np.zeros((80, 4), np.float32)
    for convert in (to_nats, to_official):
        with pytest.raises(ValueError, match=r"^spec='log2': unknown convention 'log2' \(choose from "):
            convert(mel, "log2")
