"""A thousand bad files make a line a user can read: the first few named, the rest counted by problem
(errors.bad_inputs), where the line named every one (99 KB for 1000 files at another rate)."""

from __future__ import annotations

from hifigan.errors import LIST_SEPARATOR, LISTED_AT_MOST, LISTED_SCAN_KEPT, HifiganError, bad_inputs
from tests.support.cli_runs import SR, refused_after_scan, run, tone, wav


def test_the_first_problems_are_named_and_the_rest_counted_by_problem():
    problems = [HifiganError(f"r{i:03d}.wav", "sample rate is 16000 Hz") for i in range(30)]
    problems += [HifiganError(f"s{i}.wav", "has 2 channels") for i in range(5)] + [HifiganError("t.wav", "is empty")]
    line = str(bad_inputs(problems, 40))
    items = line.split("(nothing was written): ", 1)[1].split(LIST_SEPARATOR)
    assert line.startswith("36 of 40 inputs are bad (nothing was written): ")
    assert items[:LISTED_AT_MOST] == [f"r{i:03d}.wav: sample rate is 16000 Hz" for i in range(LISTED_AT_MOST)]
    assert items[LISTED_AT_MOST:] == [f"and {36 - LISTED_AT_MOST} more: {30 - LISTED_AT_MOST} sample rate is "
                                      "16000 Hz; 5 has 2 channels; 1 is empty"]
    more = [*problems, HifiganError("u.wav", "is too short"), HifiganError("v.wav", "has non-finite samples")]
    assert str(bad_inputs(more, 40)).endswith(LIST_SEPARATOR + f"and {38 - LISTED_AT_MOST} more: 20 sample rate is "
                                              "16000 Hz; 5 has 2 channels; 1 is empty; 2 with other problems")
    few = [HifiganError(f"r{i}.wav", "x") for i in range(LISTED_AT_MOST)]  # up to the limit: every one named
    assert str(bad_inputs(few, 20)).split(": ", 1)[1] == LIST_SEPARATOR.join(map(str, few))


def test_problems_that_differ_only_in_their_numbers_are_counted_as_one_kind():
    """24 [frames, 80] mels of 24 lengths: the 14 not named are one problem at 14 bin counts, not 3 of them and "11 with
    other problems"; the numbers they share stay, those that differ are named N, N2 with their first values."""
    bins = [HifiganError(f"m{i:02d}.npy", f"mel has {200 + 7 * i} bins, the model expects 80 (a [frames, 80] mel?)")
            for i in range(24)]
    line = str(bad_inputs(bins, 24))
    assert line.endswith(LIST_SEPARATOR + f"and {24 - LISTED_AT_MOST} more: {24 - LISTED_AT_MOST} mel has N bins, "
                         "the model expects 80 (a [frames, 80] mel?) (N: 270, 277, 284, ...)")
    rates = [HifiganError(f"r{i}.wav", f"sample rate is {rate} Hz, {ch} channels")
             for i, (rate, ch) in enumerate([(16000, 2)] * 12 + [(48000, 2), (8000, 2), (44100, 2), (16000, 2)])]
    rates += [HifiganError("e.wav", "is empty"), HifiganError("f.wav", "is empty")]
    assert str(bad_inputs(rates, 20)).endswith(
        LIST_SEPARATOR + "and 8 more: 6 sample rate is N Hz, 2 channels (N: 16000, 48000, 8000, ...); 2 is empty")
    two = [HifiganError(f"t{i}.wav", f"{i} of {i + 1}") for i in range(LISTED_AT_MOST + 4)]
    assert str(bad_inputs(two, 20)).endswith("and 4 more: 4 N of N2 (N: 10, 11, 12, ...; N2: 11, 12, 13, ...)")


def test_train_on_a_corpus_of_many_files_at_another_rate_says_so_in_a_short_line(tmp_path, capsys,
                                                                                tiny_config_json):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(3):
        wav(corpus / f"good{i}.wav", tone(SR // 2))
    for i in range(60):
        wav(corpus / f"slow{i:02d}.wav", tone(SR // 8, sr=SR // 2), sr=SR // 2)
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--corpus", corpus, "--config", tiny_config_json, "-o", out, "--max-steps", 1)
    line = refused_after_scan(code, err, out, f"60 of 63 inputs are bad {LISTED_SCAN_KEPT}",
                          f"slow00.wav: sample rate is {SR // 2} Hz",
                          f"and {60 - LISTED_AT_MOST} more: {60 - LISTED_AT_MOST} sample rate is {SR // 2} Hz")
    named = [item.split(": ", 1)[0] for item in line.split(LISTED_SCAN_KEPT, 1)[1].split(LIST_SEPARATOR)]
    assert named[:-1] == [str(corpus / f"slow{i:02d}.wav") for i in range(LISTED_AT_MOST)]
    assert len(line) < 2500  # the tmp paths are long; the old line held all 60 (over 6000)


def test_train_names_the_first_bad_files_in_path_order_held_out_or_not(tmp_path, capsys, tiny_config_json):
    """The held-out files' problems were listed after the training files', so the ten named were not the first ten:
    12 bad files, 3 held out, at least one of them among the first ten whatever the draw."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(12):
        wav(corpus / f"slow{i:02d}.wav", tone(SR // 8, sr=SR // 2), sr=SR // 2)
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--corpus", corpus, "--config", tiny_config_json, "-o", out, "--max-steps", 1,
                       "--valid-count", 3)
    line = refused_after_scan(code, err, out, f"12 of 12 inputs are bad {LISTED_SCAN_KEPT}")
    named = [item.split(": ", 1)[0] for item in line.split(LISTED_SCAN_KEPT, 1)[1].split(LIST_SEPARATOR)]
    assert named == [str(corpus / f"slow{i:02d}.wav") for i in range(LISTED_AT_MOST)] + ["and 2 more"]
