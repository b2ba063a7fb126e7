"""Kaldi / ESPnet wav.scp lists (`utt-id path`, told by a name ending .scp): paths taken as written (a relative one
from the wav root), piped commands and archives refused line by line, and a run on one drawing, resuming and
caching as a run on the same files' `id|text` list."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hifigan.checkpoints.format import read_checkpoint
from hifigan.data.corpus import Corpus, read_filelist
from hifigan.errors import HifiganError
from tests.support.cli_runs import one_line, run


def test_a_wav_scp_names_its_paths_as_written_and_a_relative_one_from_the_root(tmp_path):
    """Tabs or spaces after the id, a path holding a space, any suffix kept (no .wav added), an absolute path as it
    is; the same lines in a .txt list are ids (a list's kind is its name's)."""
    lines = "u1 wavs/a.wav\nu2\t\twavs/b c.flac  \n\nu3 /data/d.wav\nu4 e\n"
    (tmp_path / "wav.scp").write_text(lines)
    assert read_filelist(tmp_path / "wav.scp", tmp_path / "root") == [
        tmp_path / "root" / "wavs" / "a.wav", tmp_path / "root" / "wavs" / "b c.flac", Path("/data/d.wav"),
        tmp_path / "root" / "e"]
    (tmp_path / "ids.txt").write_text(lines)
    assert read_filelist(tmp_path / "ids.txt", tmp_path / "root")[0] == tmp_path / "root" / "u1 wavs/a.wav"


def test_piped_archived_pathless_and_repeated_entries_are_each_named_in_one_line(tmp_path, capsys, tiny_config_json):
    scp = tmp_path / "data" / "train" / "wav.scp"
    scp.parent.mkdir(parents=True)
    scp.write_text("u1 wavs/a.wav\nu2 sox /c/b.flac -t wav - |\nu3 flac -c -d -s /c/c.flac|\nu4 ark:/c/w.ark\n"
                   "u5 /c/raw.ark:1234\nu6 ark,s,cs:/c/w.ark\nu7\nu8 wavs/a.wav\n")
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--train-list", scp, "--config", tiny_config_json, "-o", out)
    assert code == 2 and not out.exists()
    piped = ("hifigan runs no commands; write its audio to a file (ESPnet: scripts/audio/format_wav_scp.sh) and list "
             "that")
    archive = "hifigan reads audio files; write its audio to a file and list that"
    assert one_line(err) == (
        f"hifigan train: error: 7 of 8 inputs are bad (nothing was written): "
        f"{scp}: line 2: 'u2' is a piped command ('sox /c/b.flac -t wav - |'): {piped} | "
        f"{scp}: line 3: 'u3' is a piped command ('flac -c -d -s /c/c.flac|'): {piped} | "
        f"{scp}: line 4: 'u4' is read from a Kaldi archive ('ark:/c/w.ark'): {archive} | "
        f"{scp}: line 5: 'u5' is read from a Kaldi archive ('/c/raw.ark:1234'): {archive} | "
        f"{scp}: line 6: 'u6' is read from a Kaldi archive ('ark,s,cs:/c/w.ark'): {archive} | "
        f"{scp}: line 7: 'u7' has no path (expected 'utt-id path', a Kaldi wav.scp) | "
        f"{scp}: line 8: 'wavs/a.wav' is listed on line 1 too (list each clip once)")


def test_train_and_validation_wav_scps_split_as_their_paths_say(tmp_path):
    """A validation wav.scp's files leave the training side; either list may be of either kind."""
    (tmp_path / "train.scp").write_text("a x/a.wav\nb x/b.wav\nc x/c.wav\n")
    (tmp_path / "valid.scp").write_text("b x/b.wav\n")
    (tmp_path / "valid.txt").write_text("x/c.wav|text\n")
    for valid, held in (("valid.scp", "b"), ("valid.txt", "c")):
        split = Corpus(train_list=tmp_path / "train.scp", valid_list=tmp_path / valid).split(seed=0)
        assert split.valid == [tmp_path / "x" / f"{held}.wav"]
        assert split.train == [tmp_path / "x" / f"{n}.wav" for n in "abc" if n != held]


@pytest.mark.usefixtures("single_thread")
def test_a_wav_scp_run_holds_out_resumes_and_caches_as_its_id_text_list_does(tmp_path, capsys, tiny_corpus,
                                                                             tiny_config_json):
    """The clips' names within the corpus are their paths from --wav-root (an absolute path under it too), so the
    held-out draw is the id|text list's; the resume re-reads the wav.scp as one, keeps the held-out files and reads
    nothing again (the scan cache keyed by the same paths)."""
    wavs = shutil.copytree(tiny_corpus, tmp_path / "wavs")
    names = sorted(p.name for p in wavs.iterdir())
    (tmp_path / "train.txt").write_text("".join(f"{n[:-4]}|text\n" for n in names))
    (tmp_path / "wav.scp").write_text("".join(f"utt{i} {wavs / n if i % 2 else n}\n" for i, n in enumerate(names)))
    quick = ("--config", tiny_config_json, "--valid-count", 2, "--max-steps", 0, "--validation-interval", 0,
             "--no-progress")
    held = {}
    for listed in ("train.txt", "wav.scp"):
        code, _, err = run(capsys, "train", "--train-list", tmp_path / listed, "--wav-root", wavs, "-o",
                           tmp_path / listed[-3:], *quick)
        assert code == 0 and "scan: 8 files, 8 read, 0 unchanged" in err, err
        assert "training set: 6 clips; validation set: 2 clips" in err, err
        held[listed] = read_checkpoint(tmp_path / listed[-3:] / "checkpoints" / "latest.pt")["data"]["held_out"]
    assert len(held["wav.scp"]) == 2 and held["wav.scp"] == held["train.txt"]
    code, _, err = run(capsys, "train", "--resume", tmp_path / "scp", "--max-steps", 1, "--no-progress")
    assert code == 0 and "scan: 8 files, 0 read, 8 unchanged" in err, err
    assert "validation: the run's 2 held-out files, from its checkpoint" in err and "changed since" not in err
    resumed = read_checkpoint(tmp_path / "scp" / "checkpoints" / "latest.pt")
    assert (resumed["step"], resumed["data"]["held_out"]) == (1, held["wav.scp"])


def test_a_wav_scp_whose_relative_paths_are_all_missing_says_where_they_start_from(tmp_path):
    """No --wav-root: its relative paths were looked up beside the list (Kaldi's start from the recipe's folder);
    absolute paths, all gone, get no such hint (no root would find them)."""
    from hifigan.data.corpus_scan import too_few_usable

    scp = tmp_path / "data" / "train" / "wav.scp"
    scp.parent.mkdir(parents=True)
    for lines, hint in (("a wavs/a.wav\nb wavs/b.wav\n", (
            f"; a wav.scp's relative paths start from its own folder {scp.parent} unless Corpus.wav_root names the "
            "folder they start from (Kaldi's and ESPnet's: the recipe's folder, which holds data/)")),
            (f"a {tmp_path / 'a.wav'}\nb {tmp_path / 'b.wav'}\n", "")):
        scp.write_text(lines)
        corpus = Corpus(train_list=scp, valid_count=1)
        files = corpus.listed()
        with pytest.raises(HifiganError) as refused:
            too_few_usable(corpus, files, ["unreadable"] * 2, drawn=True)
        assert str(refused.value) == ("need at least 2 usable audio files to hold out a validation clip (0 of 2 are "
                                      f"usable: 2 missing, e.g. {files[0]}){hint}")


def test_a_repeated_utterance_id_is_refused_by_line_as_a_repeated_path_is(tmp_path, capsys, tiny_config_json):
    """Kaldi reads a wav.scp's ids as keys: one id on two paths is refused; a whole line repeated is said as its
    path (once per line)."""
    scp = tmp_path / "wav.scp"
    scp.write_text("u1 a.wav\nu2 b.wav\nu1 c.wav\nu2 b.wav\nu3 d.wav\n")
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--train-list", scp, "--config", tiny_config_json, "-o", out)
    assert code == 2 and not out.exists()
    assert one_line(err) == (
        f"hifigan train: error: 2 of 5 inputs are bad (nothing was written): "
        f"{scp}: line 3: utterance id 'u1' is on line 1 too (a wav.scp's ids are keys: give each clip its own) | "
        f"{scp}: line 4: 'b.wav' is listed on line 2 too (list each clip once)")


@pytest.mark.parametrize("root", [None, "recipe"])
def test_a_wav_scp_under_another_name_whose_ids_are_all_missing_is_told_to_be_named_scp(tmp_path, root):
    """`utt-id path` lines in a .txt or .list are read as ids (unchanged), which name no file: the refusal says the
    list looks like a wav.scp, with or without --wav-root, instead of LJSpeech's hint."""
    from hifigan.data.corpus_scan import too_few_usable

    train, valid = tmp_path / "train.list", tmp_path / "wav.txt"
    train.write_text("u1 wavs/a.wav\nu2\t/data/b.FLAC \n\n")
    valid.write_text("u3 wavs/c.wav\n")
    wav_root = tmp_path / root if root else None
    hint = ("like a Kaldi wav.scp ('utt-id path' lines) but {} read as 'id|text' lines (a wav.scp is told by its "
            "name): name {} ending .scp, as wav.scp is")
    for corpus, said in ((Corpus(train_list=train, wav_root=wav_root, valid_count=1),
                          f"; {train} looks " + hint.format("was", "it")),
                         (Corpus(train_list=train, valid_list=valid, wav_root=wav_root),
                          f"; {train} and {valid} look " + hint.format("were", "them"))):
        files = corpus.listed()
        assert files[0] == (wav_root or tmp_path) / "u1 wavs/a.wav"  # still read as ids
        with pytest.raises(HifiganError) as refused:
            too_few_usable(corpus, files, ["unreadable"] * len(files), drawn=corpus.valid_list is None)
        assert str(refused.value).endswith(f"e.g. {files[0]}){said}")


@pytest.mark.parametrize("lines", ["u1 wavs/a.wav\nLJ001-0002|in being comparatively modern. see a.wav\n",
                                   "u1 wavs/a.wav\nu2 wavs/b\n", "u1 a b.txt\n"])
def test_a_list_not_every_line_of_which_is_shaped_as_a_wav_scp_keeps_the_ljspeech_hint(tmp_path, lines):
    """An `id|text` line, a path with no audio suffix, ids with spaces: not a wav.scp, so the --wav-root hint."""
    from hifigan.data.corpus_scan import too_few_usable

    (tmp_path / "train.txt").write_text(lines)
    corpus = Corpus(train_list=tmp_path / "train.txt")
    files = corpus.listed()
    with pytest.raises(HifiganError) as refused:
        too_few_usable(corpus, files, ["unreadable"] * len(files), drawn=False)
    assert str(refused.value).endswith(f"; a file list's ids are looked up in its own folder {tmp_path} unless "
                                       "Corpus.wav_root names where the WAVs are (LJSpeech: "
                                       "Corpus(wav_root=Path('LJSpeech-1.1/wavs')))")
