"""best.pt: the checkpoint of the lowest validation mel L1 so far, saved at its step, kept by --keep, continued by
--resume, said at each new best and at the end."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from hifigan.checkpoints.format import read_checkpoint, write_checkpoint
from hifigan.checkpoints.run_files import save_step_checkpoint
from hifigan.cli import main
from hifigan.training.best_checkpoint import METRIC, BestCheckpoint
from tests.support.cli_runs import files_in
from tests.support.files import copy_run, save_config_json
from tests.support.threads import threads
from tests.support.tiny import tiny_config

pytestmark = pytest.mark.usefixtures("single_thread")


def _new_run(tmp_path, corpus, *args: str) -> tuple[Path, Path]:
    """A new tiny run (2 held-out clips, no progress bar) with `args`; its folder and checkpoints folder."""
    config = save_config_json(tmp_path / "c.json", tiny_config())
    run = tmp_path / "run"
    assert main(["train", "--corpus", str(corpus), "--config", str(config), "--valid-count", "2", "--no-progress",
                 "--out", str(run), *args]) == 0
    return run, run / "checkpoints"


@pytest.fixture(scope="module")
def every_step_run(tmp_path_factory, tiny_corpus) -> Path:
    """A tiny run of 3 steps, a checkpoint at every step, validation at step 2 and at the end (step 3), trained once
    for the tests that each resume a copy of it (`_copy_run`)."""
    with threads(1):
        run, _ = _new_run(tmp_path_factory.mktemp("every_step"), tiny_corpus, "--validation-interval", "2",
                          "--checkpoint-interval", "1", "--max-steps", "3")
    return run


def _copy_run(run: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of `run` in tmp_path/run (copy_run); its folder and checkpoints folder."""
    copy = copy_run(run, tmp_path)
    return copy, copy / "checkpoints"


def _validations(run) -> dict[int, float]:
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    return {r["step"]: r["val/mel_l1"] for r in records if "val/mel_l1" in r}


def test_only_a_strictly_lower_finite_value_is_a_new_best():
    best = BestCheckpoint()
    assert not best.offer(math.nan, 1) and best.payload() is None
    assert best.offer(0.5, 2) and not best.offer(0.5, 3) and not best.offer(math.nan, 4) and best.offer(0.25, 5)
    assert best.payload() == {"value": 0.25, "step": 5, "metric": METRIC}
    assert BestCheckpoint.restored({"best": best.payload()}) == best
    assert BestCheckpoint.restored({"step": 7}) == BestCheckpoint()  # a checkpoint made before it was stored


def test_a_save_points_best_at_its_step_and_keep_never_removes_it(tmp_path):
    for step in range(1, 5):
        save_step_checkpoint(tmp_path, step, {"step": torch.tensor(step)}, keep=1, best=2 if step >= 2 else None)
    assert files_in(tmp_path) == ["best.pt", "ckpt_00000002.pt", "ckpt_00000004.pt", "latest.pt"]  # no temporary
    assert (tmp_path / "best.pt").samefile(tmp_path / "ckpt_00000002.pt")


def test_best_pt_follows_the_lowest_validation_and_resume_continues_the_comparison(tmp_path, tiny_corpus, capsys):
    """At lr 0.01 the tiny run's validation goes down at step 2, then up: --keep 1 keeps ckpt 2 as best.pt beside
    the newest; the resumed run's step 4, worse than step 2, moves nothing."""
    config = save_config_json(tmp_path / "lr.json", tiny_config(learning_rate=0.01))
    run, every = tmp_path / "run", ["--no-progress", "--validation-interval", "1", "--checkpoint-interval", "0"]
    assert main(["train", "--corpus", str(tiny_corpus), "--config", str(config), "--valid-count", "2", *every,
                 "--keep", "1", "--out", str(run), "--max-steps", "3"]) == 0
    values = _validations(run)
    assert list(values) == [1, 2, 3] and values[2] < values[1] and values[3] > values[2]  # down, then up
    ckpts = run / "checkpoints"
    assert files_in(ckpts) == ["best.pt", "ckpt_00000002.pt", "ckpt_00000003.pt", "latest.pt"]
    assert (ckpts / "best.pt").samefile(ckpts / "ckpt_00000002.pt")
    err = capsys.readouterr().err
    assert f"step 2: val/mel_l1 {values[2]:.4f}, the best so far" in err and "step 3: val/mel_l1" not in err
    assert err.strip().endswith(f"best: {ckpts / 'ckpt_00000002.pt'} (val/mel_l1 {values[2]:.4f}, best.pt)")

    assert main(["train", "--resume", str(run), "--max-steps", "4", *every]) == 0
    resumed = _validations(run)
    assert resumed[4] > values[2]
    assert files_in(ckpts) == ["best.pt", "ckpt_00000002.pt", "ckpt_00000004.pt", "latest.pt"]
    assert (ckpts / "best.pt").samefile(ckpts / "ckpt_00000002.pt")
    assert read_checkpoint(ckpts / "latest.pt")["best"] == {"value": values[2], "step": 2, "metric": METRIC}
    assert capsys.readouterr().err.strip().endswith(f"best: {ckpts / 'ckpt_00000002.pt'} "
                                                    f"(val/mel_l1 {values[2]:.4f}, best.pt)")

    # A resume from best.pt goes back to step 2: its save at step 3 sets the later step 4 aside, best.pt stays.
    assert main(["train", "--resume", str(ckpts / "best.pt"), "--max-steps", "3", "--no-progress",
                 "--validation-interval", "0"]) == 0
    assert f"resumed from {ckpts / 'best.pt'} at step 2" in capsys.readouterr().err
    assert files_in(ckpts) == ["best.pt", "ckpt_00000002.pt", "ckpt_00000003.pt", "ckpt_00000004.pt.superseded",
                             "latest.pt"]
    assert (ckpts / "best.pt").samefile(ckpts / "ckpt_00000002.pt")
    assert read_checkpoint(ckpts / "latest.pt")["best"] == {"value": values[2], "step": 2, "metric": METRIC}


def test_a_step_saved_before_its_validation_made_it_the_best_is_written_again_with_it(tmp_path, every_step_run,
                                                                                       capsys):
    """Checkpoints every step, validation every 2: step 3 is saved, then the end's validation makes it the best; a
    resume of ckpt 1 (no best stored) that trains nothing validates step 1, the best of its history. Each time the
    file best.pt links is written again, storing itself as the best, and becomes latest.pt (the history that saved
    last); the rewound steps are set aside. In between, a resume back past the best (step 3) to step 2 moves
    best.pt to step 2 at its first save, not to a step of the abandoned history."""
    run, ckpts = _copy_run(every_step_run, tmp_path)  # --keep: the default, 3
    values = _validations(run)
    assert list(values) == [2, 3] and values[3] < values[2]  # the default lr: each validation lower
    assert files_in(ckpts) == ["best.pt", "ckpt_00000001.pt", "ckpt_00000002.pt", "ckpt_00000003.pt", "latest.pt"]
    assert (ckpts / "best.pt").samefile(ckpts / "ckpt_00000003.pt")
    assert (ckpts / "latest.pt").samefile(ckpts / "ckpt_00000003.pt")
    assert read_checkpoint(ckpts / "best.pt")["best"] == {"value": values[3], "step": 3, "metric": METRIC}
    assert read_checkpoint(ckpts / "ckpt_00000001.pt")["best"] is None

    # Back to step 2, past the later best at step 3: the first save points best.pt at step 2, the resumed history's.
    assert main(["train", "--resume", str(ckpts / "ckpt_00000002.pt"), "--no-progress", "--max-steps", "3",
                 "--validation-interval", "0"]) == 0
    assert files_in(ckpts) == ["best.pt", "ckpt_00000001.pt", "ckpt_00000002.pt", "ckpt_00000003.pt",
                             "ckpt_00000003.pt.superseded", "latest.pt"]
    assert (ckpts / "best.pt").samefile(ckpts / "ckpt_00000002.pt")
    assert read_checkpoint(ckpts / "latest.pt")["best"] == {"value": values[2], "step": 2, "metric": METRIC}
    capsys.readouterr()

    assert main(["train", "--resume", str(ckpts / "ckpt_00000001.pt"), "--no-progress", "--max-steps", "1",
                 "--validation-interval", "2"]) == 0
    value = _validations(run)[1]
    assert files_in(ckpts) == ["best.pt", "ckpt_00000001.pt", "ckpt_00000002.pt.superseded",
                             "ckpt_00000003.pt.superseded", "ckpt_00000003.pt.superseded.1", "latest.pt"]
    assert (ckpts / "best.pt").samefile(ckpts / "ckpt_00000001.pt")
    assert (ckpts / "latest.pt").samefile(ckpts / "ckpt_00000001.pt")
    assert read_checkpoint(ckpts / "best.pt")["best"] == {"value": value, "step": 1, "metric": METRIC}
    out, err = capsys.readouterr()  # the checkpoint written is said once: by the success line
    assert err.splitlines()[-1] == (f"stopped (max_steps) at step 1, epoch 0; best: {ckpts / 'ckpt_00000001.pt'} "
                                    f"(val/mel_l1 {value:.4f}, best.pt)")
    assert out == f"wrote {ckpts / 'ckpt_00000001.pt'}\n"


def test_a_resumed_history_with_no_best_takes_best_pt_away_at_its_first_save(tmp_path, tiny_corpus, capsys):
    """ckpt 1 was saved before the first validation (step 2, the best): a resume of it that does not validate saves
    a step 2 of its own, which has no best; best.pt no longer names the abandoned step 2 (set aside, not lost)."""
    _, ckpts = _new_run(tmp_path, tiny_corpus, "--validation-interval", "2", "--checkpoint-interval", "1",
                       "--max-steps", "2")
    assert (ckpts / "best.pt").samefile(ckpts / "ckpt_00000002.pt")
    abandoned = read_checkpoint(ckpts / "best.pt")["best"]
    assert abandoned["step"] == 2 and read_checkpoint(ckpts / "ckpt_00000001.pt")["best"] is None
    capsys.readouterr()

    assert main(["train", "--resume", str(ckpts / "ckpt_00000001.pt"), "--no-progress", "--max-steps", "2",
                 "--validation-interval", "0"]) == 0
    assert files_in(ckpts) == ["ckpt_00000001.pt", "ckpt_00000002.pt", "ckpt_00000002.pt.superseded", "latest.pt"]
    assert read_checkpoint(ckpts / "latest.pt")["best"] is None
    assert read_checkpoint(ckpts / "ckpt_00000002.pt.superseded")["best"] == abandoned
    out, err = capsys.readouterr()
    assert err.splitlines()[-1] == "stopped (max_steps) at step 2, epoch 0"  # no best named
    assert out == f"wrote {ckpts / 'ckpt_00000002.pt'}\n"


def test_a_resume_back_past_a_later_best_whose_own_best_is_gone_starts_the_best_afresh(tmp_path, tiny_corpus,
                                                                                        capsys):
    """--keep 2, validation every 2: ckpt 3 stores step 2 as its best, and step 4's new best made --keep remove
    ckpt 2. A resume of ckpt 3 says so and starts the best afresh; its save at step 4 takes best.pt away from the
    abandoned step 4 (set aside) and names no best."""
    run, ckpts = _new_run(tmp_path, tiny_corpus, "--validation-interval", "2", "--checkpoint-interval", "1", "--keep",
                          "2", "--max-steps", "4")
    values = _validations(run)
    assert files_in(ckpts) == ["best.pt", "ckpt_00000003.pt", "ckpt_00000004.pt", "latest.pt"]
    assert read_checkpoint(ckpts / "ckpt_00000003.pt")["best"] == {"value": values[2], "step": 2, "metric": METRIC}
    assert (ckpts / "best.pt").samefile(ckpts / "ckpt_00000004.pt")
    capsys.readouterr()

    assert main(["train", "--resume", str(ckpts / "ckpt_00000003.pt"), "--no-progress", "--max-steps", "4",
                 "--validation-interval", "0"]) == 0
    out, err = capsys.readouterr()
    assert (f"best: {ckpts / 'ckpt_00000002.pt'} (val/mel_l1 {values[2]:.4f}), the best of the checkpoint resumed, "
            "is gone (--keep removes a best once a later one replaces it): best.pt starts afresh with this run's "
            "next validation\n") in err
    assert err.splitlines()[-1] == "stopped (max_steps) at step 4, epoch 1"  # no best: best.pt starts afresh
    assert out == f"wrote {ckpts / 'ckpt_00000004.pt'}\n"
    assert files_in(ckpts) == ["ckpt_00000003.pt", "ckpt_00000004.pt", "ckpt_00000004.pt.superseded", "latest.pt"]
    assert read_checkpoint(ckpts / "latest.pt")["best"] is None


def test_a_best_whose_step_file_was_removed_by_hand_is_given_back_by_best_pt(tmp_path, every_step_run, capsys):
    """The best's ckpt_<step>.pt removed by hand leaves best.pt (and latest.pt, where the best is the last step) its
    last copies. A resume names it ckpt_<step>.pt again and keeps comparing with it, so its next save keeps it (it
    took best.pt away, and with it the best's weights)."""
    run, ckpts = _copy_run(every_step_run, tmp_path)
    values = _validations(run)
    best = read_checkpoint(ckpts / "best.pt")
    b = best["step"]
    assert best["best"]["step"] == b and (ckpts / "best.pt").samefile(ckpts / f"ckpt_{b:08d}.pt")
    (ckpts / f"ckpt_{b:08d}.pt").unlink()
    capsys.readouterr()

    assert main(["train", "--resume", str(ckpts / "latest.pt"), "--no-progress", "--max-steps", "4",
                 "--validation-interval", "0"]) == 0
    err = capsys.readouterr().err
    assert (f"best: {ckpts / f'ckpt_{b:08d}.pt'} (val/mel_l1 {values[b]:.4f}) was gone; best.pt still held it and "
            "gives it back under its name, so the comparison continues\n") in err
    assert (ckpts / "best.pt").samefile(ckpts / f"ckpt_{b:08d}.pt")
    assert read_checkpoint(ckpts / "latest.pt")["best"] == {"value": values[b], "step": b, "metric": METRIC}
    kept = read_checkpoint(ckpts / "best.pt")
    assert kept["step"] == b and all(torch.equal(kept["generator"][k], v) for k, v in best["generator"].items())


def test_a_resume_into_another_run_folder_says_its_best_is_not_there(tmp_path, every_step_run, capsys):
    """--resume of run A's ckpt 3 (its own best, validated at the end) with --out B: best.pt, which names a file of
    its own folder, starts afresh there, and the line names A's file, not a B/checkpoints file that never existed."""
    run, ckpts = _copy_run(every_step_run, tmp_path)
    value = _validations(run)[3]
    assert read_checkpoint(ckpts / "ckpt_00000003.pt")["best"] == {"value": value, "step": 3, "metric": METRIC}
    capsys.readouterr()

    fork = tmp_path / "fork"
    assert main(["train", "--resume", str(ckpts / "ckpt_00000003.pt"), "--out", str(fork), "--no-progress",
                 "--max-steps", "4", "--validation-interval", "0"]) == 0
    err = capsys.readouterr().err
    assert (f"best: {ckpts / 'ckpt_00000003.pt'} (val/mel_l1 {value:.4f}), the best of the checkpoint resumed, is "
            f"not in this run's folder ({fork / 'checkpoints'}): best.pt starts afresh with this run's next "
            "validation\n") in err
    assert files_in(fork / "checkpoints") == ["ckpt_00000004.pt", "latest.pt"]
    assert read_checkpoint(fork / "checkpoints" / "latest.pt")["best"] is None
    assert (ckpts / "best.pt").samefile(ckpts / "ckpt_00000003.pt")  # A's own, untouched


def test_a_step_saved_again_never_replaces_another_historys_file_of_that_step(tmp_path, tiny_corpus):
    """A resume of a set-aside ckpt 3 (ckpt_3.pt is the later history's) that trains nothing and whose validation
    makes step 3 the best saves step 3 again: the later history's ckpt_3.pt is set aside, not overwritten."""
    _, ckpts = _new_run(tmp_path, tiny_corpus, "--validation-interval", "0", "--checkpoint-interval", "1",
                        "--max-steps", "3")
    assert main(["train", "--resume", str(ckpts / "ckpt_00000002.pt"), "--no-progress", "--max-steps", "3"]) == 0
    later = (ckpts / "ckpt_00000003.pt").read_bytes()
    old = ckpts / "ckpt_00000003.pt.superseded"
    assert main(["train", "--resume", str(old), "--no-progress", "--max-steps", "3", "--validation-interval",
                 "2"]) == 0
    assert files_in(ckpts) == ["best.pt", "ckpt_00000001.pt", "ckpt_00000002.pt", "ckpt_00000003.pt",
                             "ckpt_00000003.pt.superseded", "ckpt_00000003.pt.superseded.1", "latest.pt"]
    assert (ckpts / "ckpt_00000003.pt.superseded.1").read_bytes() == later
    assert read_checkpoint(ckpts / "best.pt")["best"]["step"] == 3
    assert (ckpts / "best.pt").samefile(ckpts / "ckpt_00000003.pt")


def test_a_best_stored_before_val_mel_l1_measured_the_whole_recording_starts_afresh(tmp_path, tiny_corpus, capsys):
    """A checkpoint written before b3f2277 stores its best without the metric: that value measured the recording cut
    to the generated length, which today's val/mel_l1 does not compare with. The resume says so and its own
    validation becomes the best, even above the stored value; --keep no longer holds the old best's file."""
    run, ckpts = _new_run(tmp_path, tiny_corpus, "--validation-interval", "1", "--checkpoint-interval", "1",
                          "--max-steps", "1")
    old = read_checkpoint(ckpts / "ckpt_00000001.pt")
    old["best"] = {"value": 1e-3, "step": 1}  # the earlier layout, with a value no validation here goes under
    write_checkpoint(ckpts / "ckpt_00000001.pt", old)
    capsys.readouterr()
    assert main(["train", "--resume", str(ckpts / "ckpt_00000001.pt"), "--no-progress", "--max-steps", "2",
                 "--keep", "1"]) == 0
    err = capsys.readouterr().err
    assert (f"best: {ckpts / 'ckpt_00000001.pt'} (val/mel_l1 0.0010), the best of the checkpoint resumed, was "
            "measured by an earlier version against the recording cut to the generated length, which today's "
            "val/mel_l1 (the whole recording) does not compare with (the file stays until --keep removes it): "
            "best.pt starts afresh with this run's next validation\n") in err
    value = _validations(run)[2]
    assert read_checkpoint(ckpts / "latest.pt")["best"] == {"value": value, "step": 2, "metric": METRIC}
    assert files_in(ckpts) == ["best.pt", "ckpt_00000002.pt", "latest.pt"]
    assert (ckpts / "best.pt").samefile(ckpts / "ckpt_00000002.pt")
