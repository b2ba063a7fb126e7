"""Evaluation called from Python (`evaluate_pairs`, `compute_metrics`, `pair_by_stem`, the input checks) names the
caller's own arguments in its messages (`resample=True`, `max_shift=...`), never `hifigan evaluate`'s options; the
commands pass cli=True and keep theirs (test_evaluate_errors and the others check that wording)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import soundfile as sf

from hifigan import compute_metrics, evaluate_pairs, load_config
from hifigan.errors import HifiganError
from hifigan.evaluation.inputs import check_inputs
from hifigan.evaluation.pairing import pair_by_stem

FLAG = re.compile(r"--[a-z]")
TONE = (0.1 * np.sin(np.arange(2000) / 7)).astype(np.float32)
CONFIG = load_config("v1")  # 22050 Hz, hop 256


def _python_words(message: str, *names: str) -> None:
    assert not FLAG.search(message), message
    for name in names:
        assert name in message, message


def test_a_file_at_another_rate_names_resample(tmp_path):
    ref, gen = tmp_path / "a.wav", tmp_path / "a16k.wav"
    sf.write(ref, TONE, 22050)
    sf.write(gen, TONE, 16000)
    with pytest.raises(HifiganError) as e:
        evaluate_pairs([("a", ref, gen)], CONFIG, metrics=["snr"], progress=False)
    assert str(e.value) == f"{gen}: sample rate is 16000 Hz, expected 22050 Hz (use resample=True)"


def test_an_unpaired_recording_names_subset(tmp_path):
    ref, gen = tmp_path / "ref", tmp_path / "gen"
    ref.mkdir(), gen.mkdir()
    for path in (ref / "a.wav", ref / "b.wav", gen / "a.wav"):
        sf.write(path, TONE, 22050)
    with pytest.raises(HifiganError) as e:
        pair_by_stem(ref, gen)
    _python_words(str(e.value), "(subset=True evaluates only the stems the systems hold)")
    assert [stem for stem, _, _ in pair_by_stem(ref, gen, subset=True)] == ["a"]


def test_refused_arguments_are_named_as_given(tmp_path):
    ref, short = tmp_path / "a.wav", tmp_path / "short.wav"
    sf.write(ref, TONE, 22050)
    sf.write(short, TONE[:1500], 22050)
    for kwargs, said in [({"max_shift": 300}, "max_shift must be between 0 and one hop (256), got 300"),
                         ({"max_length_difference": -1}, "max_length_difference must be 0 or more, got -1")]:
        with pytest.raises(HifiganError) as e:
            evaluate_pairs([("a", ref, ref)], CONFIG, metrics=["snr"], progress=False, **kwargs)
        assert str(e.value) == said
    with pytest.raises(HifiganError) as e:
        evaluate_pairs([("a", ref, short)], CONFIG, metrics=["snr"], progress=False)
    _python_words(str(e.value), "lengths differ by 500 samples", "(max_length_difference=... trims more")


def test_a_lag_at_the_limit_names_max_shift():
    with pytest.warns(UserWarning) as caught:
        compute_metrics(TONE, -np.roll(TONE, 5), CONFIG, ["snr"], max_shift=3)
    _python_words(str(caught[0].message), "aligned at the limit of max_shift=3,")


def test_the_input_checks_name_config_and_resample(tmp_path):
    ref, gen = tmp_path / "ref", tmp_path / "gen"
    ref.mkdir(), gen.mkdir()
    sf.write(ref / "a.wav", TONE, 16000)
    sf.write(gen / "a.wav", TONE, 16000)
    with pytest.raises(HifiganError) as e:
        check_inputs(ref, {"g": gen}, "v1", metrics=["snr"], cli=False)
    _python_words(str(e.value), "give config=... at 16000 Hz (presets: ", "or resample=True to measure at 22050 Hz")


def test_an_item_that_is_no_triple_is_named(tmp_path):
    """A (reference, generated) pair without its stem was Python's 'not enough values to unpack (expected 3, got 2)'
    from inside the scoring, and a path given as an item 'a: no such file' (its characters taken as the triple);
    nothing is read or written before the refusal."""
    wav = tmp_path / "a.wav"
    sf.write(wav, TONE, CONFIG.sampling_rate)
    out = tmp_path / "report"
    for item, name in [((wav, wav), "pairs[1]"), (str(wav), "pairs[1]"), (("a", wav, wav, wav), "pairs[1]"),
                       (None, "pairs[1]")]:
        with pytest.raises(TypeError, match=rf"^{re.escape(name)} must be a \(stem, reference file, generated file\) "
                                            rf"triple, got {re.escape(repr(item))}$"):
            evaluate_pairs([("a", wav, wav), item], CONFIG, out=out, metrics=["snr"], progress=False)
    assert not out.exists()
    from hifigan.evaluation.evaluate import evaluate_each

    with pytest.raises(TypeError, match=r"^systems\['b'\]\[0\] must be a \(stem, reference file, generated file\)"):
        evaluate_each({"a": [("a", wav, wav)], "b": [(wav, wav)]}, CONFIG, {}, metrics=["snr"], progress=False)
    assert len(evaluate_pairs([["a", wav, wav]], CONFIG, metrics=["snr"], progress=False).files) == 1  # a list too
