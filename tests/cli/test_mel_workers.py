"""`hifigan mel` of a corpus in worker processes (cli/mel_workers.py): the same bytes as this process computes, and
a bad file found by a worker's check refused in the one line, before OUT is created."""

from __future__ import annotations

import numpy as np

from tests.support.cli_runs import SR, failed_cleanly, files_in, run, shown_on_a_terminal, tone, wav
from tests.support.files import write_clips


def test_mels_written_by_workers_equal_this_process_bit_for_bit(tmp_path, tiny_cfg):
    from hifigan.cli.mel_workers import MelJob, stage_mels
    from hifigan.data.scan_row import ReadSettings
    from hifigan.mel import MelSpectrogram

    clips = write_clips(tmp_path / "corpus", 6, sampling_rate=tiny_cfg.sampling_rate)
    frontend = MelSpectrogram(**tiny_cfg.mel_kwargs())
    frontend(np.zeros(4000, np.float32))  # tensors built here are not what a worker's copy computes with
    read = ReadSettings(tiny_cfg.sampling_rate)
    for workers in (1, 2):
        (tmp_path / str(workers)).mkdir()
        out = tmp_path / str(workers)
        assert stage_mels(clips, MelJob(frontend, read, out, out), False, workers) == []
    assert files_in(tmp_path / "2") == [f"{clip.stem}.npy" for clip in clips]
    for clip in clips:
        alone, pooled = np.load(tmp_path / "1" / f"{clip.stem}.npy"), np.load(tmp_path / "2" / f"{clip.stem}.npy")
        assert pooled.dtype == np.float32 and pooled.shape == alone.shape == (tiny_cfg.num_mels, alone.shape[1])
        assert alone.tobytes() == pooled.tobytes()


def test_a_corpus_checked_by_workers_names_every_bad_file_and_writes_nothing(tmp_path, capsys, tiny_config_json):
    """Over PARALLEL_MIN files the check is the scan's, in workers: a loud float file, a stereo one and one too short
    for a frame are each named as the serial check names them, with nothing written."""
    from hifigan.data.scan_pool import PARALLEL_MIN

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(PARALLEL_MIN):
        wav(corpus / f"c{i:03d}.wav", tone(400 + i))
    loud = wav(corpus / "loud.wav", 10 * tone(SR // 4), subtype="FLOAT")
    stereo = wav(corpus / "stereo.wav", tone(SR // 4, channels=2))
    short = wav(corpus / "short.wav", tone(8))
    out = tmp_path / "mels"
    code, _, err = run(capsys, "mel", corpus, "-o", out, "--config", tiny_config_json)
    line = failed_cleanly(code, err, out, f"3 of {PARALLEL_MIN + 3} inputs are bad",
                          f"{loud}: samples far outside [-1, 1]: peak 5, more than 4", f"{stereo}: has 2 channels",
                          f"{short}: too short: 8 samples")
    assert line.count(" | ") == 2


def test_each_pass_over_the_inputs_has_a_bar(tmp_path, monkeypatch, tiny_checkpoint, tiny_config_json):
    """Both commands read every input before writing anything: on a terminal each of their passes has a bar (none
    with --quiet). mel's one pass checks and computes (each file read once); vocode's check pass is followed by its
    vocode pass."""
    clips = [wav(tmp_path / f"c{i}.wav", tone(SR // 4)) for i in range(3)]
    mel = ["mel", *clips, "-o", tmp_path / "mels", "--config", tiny_config_json]
    shown = shown_on_a_terminal(monkeypatch, mel)
    assert "mel: 100%" in shown and "3/3 [" in shown and "check:" not in shown, shown
    vocode = ["vocode", "-c", tiny_checkpoint, "-o", tmp_path / "wavs", *clips]
    shown = shown_on_a_terminal(monkeypatch, vocode)
    assert "check: 100%" in shown and "vocode: 100%" in shown and "3/3 [" in shown, shown
    for argv in (mel, vocode):  # --quiet: no bar either, as train's and demo's (docs/commands.md rule 5)
        assert shown_on_a_terminal(monkeypatch, [*argv, "--quiet"]) == "", argv
