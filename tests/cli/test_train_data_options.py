"""`hifigan train` data options: conflicting ones refused in one line, validation off holding nothing out, and a
corpus with too few usable files saying why the others are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli_runs import SR, failed_cleanly, one_line, refused_after_scan, run, tone, wav


def corpus_of(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True)
    for i in range(count):
        wav(folder / f"c{i}.wav", tone(SR // 2))
    return folder


def test_train_refuses_every_conflicting_data_option_in_one_line(tmp_path, capsys, tiny_config_json):
    corpus = corpus_of(tmp_path / "corpus", 4)
    (tmp_path / "valid.txt").write_text("c0|x\n")
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--corpus", corpus, "--wav-root", tmp_path, "--valid-list",
                       tmp_path / "valid.txt", "--valid-count", 2, "--valid-fraction", 0.5, "--config",
                       tiny_config_json, "-o", out, "--max-steps", 1)
    failed_cleanly(code, err, out, "3 of 4 inputs are bad", "--wav-root is the folder of the file lists' ids",
                   "--valid-list and --valid-count exclude each other",
                   "--valid-list and --valid-fraction exclude each other")


@pytest.mark.parametrize("other", [("--valid-fraction", 0.5), ("--valid-cap", 3)])
def test_train_refuses_a_count_with_a_fraction_or_cap(tmp_path, capsys, tiny_config_json, other):
    corpus = corpus_of(tmp_path / "corpus", 4)
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--corpus", corpus, "--valid-count", 1, *other, "--config",
                       tiny_config_json, "-o", out, "--max-steps", 1)
    failed_cleanly(code, err, out, f"--valid-count and {other[0]} exclude each other")


def test_valid_count_0_with_validation_off_trains_every_clip_and_resumes(tmp_path, capsys, tiny_config_json):
    from hifigan.checkpoints.format import read_checkpoint

    corpus = corpus_of(tmp_path / "corpus", 3)
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--corpus", corpus, "--valid-count", 0, "--validation-interval", 0,
                       "--config", tiny_config_json, "-o", out, "--max-steps", 1, "--no-progress")
    assert code == 0, err
    assert "validation: none of 3 files (--valid-count 0: nothing held out, validation off)" in err
    data = read_checkpoint(out / "checkpoints" / "latest.pt")["data"]
    assert (data["held_out"], data["train_clips"]) == ([], 3)
    # the resume keeps the run's --validation-interval 0; one given anew would validate: it says why it does not
    code, _, err = run(capsys, "train", "--resume", out, "--max-steps", 2, "--no-progress")
    assert code == 0 and "validation off" not in err, err
    code, _, err = run(capsys, "train", "--resume", out, "--max-steps", 3, "--validation-interval", 5, "--no-progress")
    assert code == 0, err
    assert "validation off: the run holds nothing out (--valid-count 0); start a new run to validate" in err
    assert read_checkpoint(out / "checkpoints" / "latest.pt")["step"] == 3


def test_a_wrong_wav_root_says_every_file_is_missing_and_names_one(tmp_path, capsys, tiny_config_json):
    corpus_of(tmp_path / "wavs", 3)
    (tmp_path / "train.txt").write_text("c0|a\nc1|b\nc2|c\n")
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--train-list", tmp_path / "train.txt", "--wav-root", tmp_path / "wav",
                       "--config", tiny_config_json, "-o", out, "--max-steps", 1)
    failed_cleanly(code, err, out, f"{tmp_path / 'wav'}: no such folder (--wav-root)")
    code, _, err = run(capsys, "train", "--train-list", tmp_path / "train.txt", "--wav-root", tmp_path,
                       "--config", tiny_config_json, "-o", out, "--max-steps", 1)
    refused_after_scan(code, err, out, "need at least 2 usable audio files to hold out a validation clip (0 of 3 are "
                   f"usable: 3 missing, e.g. {tmp_path / 'c0.wav'})")
    # no --wav-root: the ids are looked up beside the list (the official layout keeps them in LJSpeech-1.1/wavs)
    code, _, err = run(capsys, "train", "--train-list", tmp_path / "train.txt", "--config", tiny_config_json,
                       "-o", out, "--max-steps", 1)
    refused_after_scan(code, err, out, f"(0 of 3 are usable: 3 missing, e.g. {tmp_path / 'c0.wav'}); a file list's ids "
                   f"are looked up in its own folder {tmp_path} unless --wav-root names where the WAVs are (LJSpeech: "
                   "--wav-root LJSpeech-1.1/wavs)")


def test_a_resumed_runs_data_that_moved_is_named_with_the_option_that_gives_its_new_place(tmp_path, capsys,
                                                                                         tiny_config_json):
    """The run's corpus folder, file lists or wav root moved since: one line naming each, and how to give its new
    place (it said "wavs: no such folder", or every listed clip missing); given anew, the run resumes."""
    wavs = corpus_of(tmp_path / "wavs", 3)
    (tmp_path / "train.txt").write_text("c0|a\nc1|b\n")
    (tmp_path / "valid.txt").write_text("c2|c\n")
    lists, folder = tmp_path / "lists_run", tmp_path / "folder_run"
    quick = ("--max-steps", 0, "--validation-interval", 0, "--no-progress")
    for args in (("--train-list", tmp_path / "train.txt", "--valid-list", tmp_path / "valid.txt", "--wav-root", wavs,
                  "-o", lists), ("--corpus", wavs, "--valid-count", 0, "-o", folder)):
        code, _, err = run(capsys, "train", *args, "--config", tiny_config_json, *quick)
        assert code == 0, err
    wavs.rename(tmp_path / "moved")
    (tmp_path / "train.txt").rename(tmp_path / "train2.txt")
    code, _, err = run(capsys, "train", "--resume", folder, *quick)
    assert code == 2 and one_line(err) == (f"hifigan train: error: {wavs}: no such folder (the run's --corpus: moved? "
                                           "give its new place with --corpus DIR)")
    code, _, err = run(capsys, "train", "--resume", lists, *quick)
    assert code == 2 and one_line(err) == (
        f"hifigan train: error: 2 of 3 data paths are bad (nothing was written): {tmp_path / 'train.txt'}: no such "
        "file list (the run's --train-list: moved? give its new place with --train-list FILE) | "
        f"{wavs}: no such folder (the run's --wav-root: moved? give its new place with --wav-root DIR)")
    code, _, err = run(capsys, "train", "--resume", lists, "--train-list", tmp_path / "train2.txt", "--wav-root",
                       tmp_path / "moved", *quick)
    assert code == 0, err
    code, _, err = run(capsys, "train", "--resume", folder, "--corpus", tmp_path / "moved", *quick)
    assert code == 0, err


def test_a_silent_or_too_short_corpus_says_why_no_file_is_usable(tmp_path, capsys, tiny_config_json):
    import numpy as np

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    wav(corpus / "a.wav", np.zeros(SR // 2, dtype=np.float32))
    wav(corpus / "b.wav", np.zeros(SR // 2, dtype=np.float32))
    wav(corpus / "c.wav", tone(8))
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--corpus", corpus, "--config", tiny_config_json, "-o", out,
                       "--max-steps", 1)
    refused_after_scan(code, err, out, f"(0 of 3 are usable: 2 silent, e.g. {corpus / 'a.wav'}; 1 too short, e.g. "
                   f"{corpus / 'c.wav'})")


def test_quiet_train_says_warnings_only(tmp_path, capsys, tiny_config_json):
    corpus = corpus_of(tmp_path / "corpus", 3)
    out = tmp_path / "run"
    code, said, err = run(capsys, "train", "--corpus", corpus, "--valid-count", 0, "--validation-interval", 0,
                          "--config", tiny_config_json, "-o", out, "--max-steps", 1, "-q")
    assert (code, said, err) == (0, "", "")
    # validation turned off on resume is a warning: it still shows, alone
    code, said, err = run(capsys, "train", "--resume", out, "--max-steps", 2, "--validation-interval", 5, "--quiet")
    assert (code, said) == (0, "")
    assert err.splitlines() == ["validation off: the run holds nothing out (--valid-count 0); start a new run to "
                                "validate"]


def test_a_listed_file_missing_where_one_differs_in_case_names_that_one(tmp_path, capsys, tiny_config_json):
    """A list's id takes .wav (as the official code's); a corpus of .WAV files was only 'missing'."""
    wavs = tmp_path / "wavs"
    wavs.mkdir()
    for name in ("C0.WAV", "C1.WAV", "C2.WAV"):
        wav(wavs / name, tone(SR // 2))
    (tmp_path / "train.txt").write_text("C0|a\nC1|b\nC2|c\n")
    out = tmp_path / "run"
    args = ("train", "--train-list", tmp_path / "train.txt", "--wav-root", wavs, "--config", tiny_config_json,
            "-o", out, "--max-steps", 1)
    code, _, err = run(capsys, *args)
    refused_after_scan(code, err, out, f"(0 of 3 are usable: 3 missing, e.g. {wavs / 'C0.wav'} (a file differing in "
                   "case: C0.WAV))")
    for i in range(2):
        wav(wavs / f"C{i}.wav", tone(SR // 2))
    with pytest.warns(UserWarning) as warned:
        code, _, err = run(capsys, *args, "--valid-count", 0, "--validation-interval", 0, "--no-progress")
    assert code == 0, err
    assert [str(w.message) for w in warned] == [
        f"training set: skipped 1 unreadable or empty file: {wavs / 'C2.wav'} (no such file; a file differing in case: "
        f"C2.WAV) (every skipped file, with why: {out / 'skipped.tsv'})"]


def _undecodable(path: Path) -> Path:
    path.write_bytes(b"c0|a\n\xff\xfe|b\n")
    return path


# (arguments with {corpus}, {list} and {run} filled in, what the one line says); each is refused before any work
REFUSALS = [
    (["--corpus", "{corpus}", "-o", "{run}", "--valid-count", "-1"],
     "argument --valid-count: must be an integer >= 0, got -1"),  # a usage error
    (["-o", "{run}"], "no training data: give --corpus DIR or --train-list FILE"),
    (["--corpus", "{corpus}", "--train-list", "{list}", "-o", "{run}"],
     "give either a corpus folder or a training file list (not both)"),
    (["--train-list", "{empty}", "-o", "{run}"], "{empty}: file list holds no entries"),
    (["--train-list", "{binary}", "-o", "{run}"],
     "{binary}: not UTF-8 text: line 2 holds byte 0xff at column 1 (Latin-1 or Windows-1252?); save it as UTF-8, "
     "or UTF-16 with its byte-order mark"),
    (["--resume", "{run}"], "{run}: no such run folder to resume from"),
    (["--resume", "{official}"],
     "{official}: not a training checkpoint of this package (use --init-from for official files)"),
]


@pytest.mark.parametrize(("args", "said"), REFUSALS, ids=["negative-count", "no-data", "both", "empty-list",
                                                          "binary-list", "no-run", "official-resume"])
def test_train_refuses_missing_or_bad_data_and_run_options_in_one_line(tmp_path, capsys, tiny_config_json,
                                                                      official_tiny80, args, said):
    """No data, both kinds, an empty or undecodable file list, a negative count, a run folder or a file
    that cannot be resumed: one line naming it, exit 2, no run folder."""
    corpus = corpus_of(tmp_path / "corpus", 3)
    (tmp_path / "empty.txt").write_text("\n\n")
    names = {"corpus": corpus, "list": tmp_path / "empty.txt", "run": tmp_path / "run", "empty": tmp_path / "empty.txt",
             "binary": _undecodable(tmp_path / "binary.txt"), "official": official_tiny80[0]}
    code, _, err = run(capsys, "train", *[a.format(**names) for a in args], "--config", tiny_config_json,
                       "--max-steps", 1)
    failed_cleanly(code, err, tmp_path / "run", said.format(**names))  # a negative count too: before the scan


@pytest.mark.parametrize("case", ["rate", "count", "list"])
def test_a_refusal_after_the_scan_says_the_cache_it_leaves_is_kept(tmp_path, capsys, tiny_config_json, case):
    """The run never started, yet its folder holds the scan's cache, on purpose: the line says so (one problem or
    a refusal of the split, not only bad_inputs' list)."""
    corpus = corpus_of(tmp_path / "wavs", 3)
    args = {"rate": ["--corpus", corpus], "count": ["--corpus", corpus, "--valid-count", 3],
            "list": ["--train-list", tmp_path / "train.txt", "--valid-list", tmp_path / "train.txt",
                     "--wav-root", corpus]}[case]
    if case == "rate":
        wav(corpus / "c1.wav", tone(SR // 2, 2 * SR), 2 * SR)
    (tmp_path / "train.txt").write_text("c0|a\nc1|b\n")
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", *args, "--config", tiny_config_json, "-o", out, "--max-steps", 1)
    said = {"rate": f"{corpus / 'c1.wav'}: sample rate is 16000 Hz", "count": "cannot hold out 3 of 3 files",
            "list": "all 2 files it lists are in"}[case]
    refused_after_scan(code, err, out, said)
