"""`hifigan train --resume` of a drawn run: a VCTK take recorded since of an utterance the run held out (its _mic2,
the _mic1 held out) is held out with it, as the run's draw kept an utterance's recordings on one side."""

from __future__ import annotations

import pytest

from tests.support.cli_runs import SR, run, tone, wav


def test_a_take_added_since_of_a_held_out_utterance_is_held_out_on_resume(tmp_path, capsys, tiny_config_json):
    from hifigan.checkpoints.format import read_checkpoint

    corpus = tmp_path / "VCTK"
    (corpus / "p225").mkdir(parents=True)
    for u in range(1, 6):
        wav(corpus / "p225" / f"p225_{u:03d}_mic1.wav", tone(SR // 2))
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--corpus", corpus, "--valid-count", 1, "--config", tiny_config_json, "-o",
                       out, "--max-steps", 1, "--no-progress")
    assert code == 0, err
    data = read_checkpoint(out / "checkpoints" / "latest.pt")["data"]
    (held,) = data["held_out"]
    assert data["held_out_utterances"] is True and data["train_clips"] == 4
    take = held.replace("_mic1", "_mic2")
    wav(corpus / take, tone(SR // 2))  # recorded since
    with pytest.warns(UserWarning, match=r"^1 file of the held-out utterances \(a _mic1 or _mic2 recording of one "
                                         rf"held out\) is not among the run's held-out files \({take}\): held out"):
        code, _, err = run(capsys, "train", "--resume", out, "--max-steps", 2, "--no-progress")
    assert code == 0, err
    data = read_checkpoint(out / "checkpoints" / "latest.pt")["data"]
    assert sorted(data["held_out"]) == [held, take] and data["train_clips"] == 4
