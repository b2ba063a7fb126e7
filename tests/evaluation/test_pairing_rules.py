"""Pairing rules checked on the file names alone (hifigan.evaluation.pairing): --subset where no recording has a
system's stem, and the tolerance option's smallest value."""

from __future__ import annotations

import pytest

from hifigan.errors import HifiganError
from hifigan.evaluation.pairing import length_tolerance, pair_by_stem


def test_subset_of_stems_no_recording_has_names_each_generated_file_and_a_case_twin_left_out(tmp_path):
    """With --subset every recording is left out when no stem matches; each generated file is still named, and one
    whose stem differs only in case from a recording left out names that recording."""
    ref, gen = tmp_path / "ref", tmp_path / "gen"
    ref.mkdir(), gen.mkdir()
    for path in (ref / "p1.wav", ref / "p2.wav", gen / "P1.wav", gen / "x.wav"):
        path.write_bytes(b"")  # pairing reads names only
    with pytest.raises(HifiganError) as caught:
        pair_by_stem(ref, gen, subset=True)
    message = str(caught.value)
    assert message.startswith("2 of 2 inputs are bad")
    assert f"{gen / 'P1.wav'}: no reference file of the same stem in {ref} (p1.wav differs in case)" in message
    assert f"{gen / 'x.wav'}: no reference file of the same stem in {ref}" in message


def test_a_max_length_difference_of_0_asks_for_equal_lengths():
    assert length_tolerance(256, 0) == 0
    assert length_tolerance(256, None) == 256
    with pytest.raises(HifiganError, match="--max-length-difference must be 0 or more, got -1"):
        length_tolerance(256, -1, cli=True)  # the command's words (Python's: test_evaluate_python_names)


def test_a_stem_spelled_in_another_unicode_normalization_is_named_as_such(tmp_path):
    """'café' composed (NFC, as Linux tools write it) and decomposed (NFD, as macOS writes it) look alike but are
    other names: the unpaired file names its twin and says how they differ, not only that no partner exists."""
    import unicodedata

    ref, gen = tmp_path / "ref", tmp_path / "gen"
    ref.mkdir(), gen.mkdir()
    composed, decomposed = (unicodedata.normalize(form, "café") for form in ("NFC", "NFD"))
    shouted = unicodedata.normalize("NFD", "CAFÉ2")
    for path in (ref / f"{composed}.wav", gen / f"{decomposed}.wav", ref / "café2.wav", gen / f"{shouted}.wav"):
        path.write_bytes(b"")  # pairing reads names only
    with pytest.raises(HifiganError) as caught:
        pair_by_stem(ref, gen)
    message = str(caught.value)
    assert message.startswith("4 of 4 inputs are bad")
    assert (f"{gen / (decomposed + '.wav')}: no reference file of the same stem in {ref} ({composed}.wav differs in "
            "Unicode normalization (NFC/NFD))") in message
    assert (f"{ref / (composed + '.wav')}: no generated file of the same stem in {gen} ({decomposed}.wav differs in "
            "Unicode normalization (NFC/NFD))") in message
    assert (f"{gen / (shouted + '.wav')}: no reference file of the same stem in {ref} (café2.wav differs in case and "
            "Unicode normalization (NFC/NFD))") in message
