"""`hifigan train --valid-speakers`: the held-out speakers' clips validate and none trains, the checkpoint records
them for --resume (which keeps them, and refuses others), and a speaker the corpus lacks is one line before the scan."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli_runs import SR, failed_cleanly, run, tone, wav


def speakers_corpus(folder: Path) -> Path:
    for speaker in ("p225", "p226", "p227"):
        (folder / "wav48" / speaker).mkdir(parents=True)
        for u in (1, 2):
            wav(folder / "wav48" / speaker / f"{speaker}_{u:03d}_mic1.wav", tone(SR // 2))
    return folder


def test_train_holds_out_the_speakers_records_them_and_resumes_with_them(tmp_path, capsys, tiny_config_json):
    from hifigan.checkpoints.format import read_checkpoint

    corpus = speakers_corpus(tmp_path / "VCTK")
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--corpus", corpus, "--valid-speakers", "p227,p225", "--config",
                       tiny_config_json, "-o", out, "--max-steps", 1, "--no-progress")
    assert code == 0, err
    assert ("validation: 4 of 6 files: every clip of 2 held-out speakers (--valid-speakers p225,p227) by their "
            "folders, none trained on") in err
    data = read_checkpoint(out / "checkpoints" / "latest.pt")["data"]
    assert data["valid_speakers"] == "p225,p227" and data["train_clips"] == 2
    assert data["held_out"] == [f"wav48/{s}/{s}_{u:03d}_mic1.wav" for s in ("p225", "p227") for u in (1, 2)]
    wav(corpus / "wav48" / "p227" / "p227_003_mic1.wav", tone(SR // 2))  # recorded since: held out, not trained on
    with pytest.warns(UserWarning, match=r"^1 file of the held-out speakers \(--valid-speakers p225,p227\) is not "
                      r"among the run's held-out files \(wav48/p227/p227_003_mic1\.wav\): held out too"):
        code, _, err = run(capsys, "train", "--resume", out, "--max-steps", 2, "--no-progress")
    assert code == 0, err
    assert ("validation: the run's 4 held-out files, from its checkpoint, and 1 added to the held-out speakers "
            "(--valid-speakers p225,p227) since\n") in err
    assert read_checkpoint(out / "checkpoints" / "latest.pt")["data"]["train_clips"] == 2
    code, _, err = run(capsys, "train", "--resume", out, "--valid-speakers", "p225", "--max-steps", 3)
    assert code == 2 and err.strip().endswith("differ: --valid-speakers p225 (the run's: p225,p227) (start a new run "
                                              "with --out to change them)"), err


def test_an_unknown_speaker_is_refused_in_one_line_before_the_scan(tmp_path, capsys, tiny_config_json):
    corpus = speakers_corpus(tmp_path / "VCTK")
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--corpus", corpus, "--valid-speakers", "p225,p9", "--config",
                       tiny_config_json, "-o", out, "--max-steps", 1)
    failed_cleanly(code, err, out, f"{corpus}: no speaker 'p9' (--valid-speakers): no folder of that name holds a "
                                   "clip (a speaker is the folder of its clips)")
    code, _, err = run(capsys, "train", "--corpus", corpus, "--valid-speakers", "p225,,p226", "-o", out)
    assert code == 2 and "argument --valid-speakers: a speaker's name is empty in 'p225,,p226'" in err, err
    code, _, err = run(capsys, "train", "--corpus", corpus, "--valid-speakers", "p225", "--valid-count", 1,
                       "--config", tiny_config_json, "-o", out, "--max-steps", 1)
    failed_cleanly(code, err, out, "--valid-speakers and --valid-count exclude each other")
