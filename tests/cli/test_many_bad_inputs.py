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
