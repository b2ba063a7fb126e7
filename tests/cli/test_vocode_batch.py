"""`hifigan vocode --batch N`: N inputs at a time through Vocoder.batch, the same WAVs as one at a time; and so
with `--shape-buckets on` (padded passes of a few shapes)."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from hifigan.inference.streaming import AUTO_CHUNK_FRAMES
from tests.support.cli_runs import one_line, run

LENGTHS = (37, 120, 5, AUTO_CHUNK_FRAMES + 9, 64, 300, 2)  # ragged; the fourth is chunked, alone, in its place


def _mels(tmp_path, cfg) -> list:
    rng = np.random.default_rng(0)
    mels = []
    for i, frames in enumerate(LENGTHS):
        mels.append(tmp_path / f"m{i}.npy")
        np.save(mels[-1], (rng.standard_normal((cfg.num_mels, frames)) - 4).astype(np.float32))
    return mels


def _wavs(folder, count: int) -> list[np.ndarray]:
    return [sf.read(folder / f"m{i}.wav", dtype="int16")[0] for i in range(count)]


def test_batches_write_the_one_at_a_time_wavs(tmp_path, capsys, tiny_checkpoint, tiny_cfg):
    """With `invariant` every WAV equals the one-at-a-time WAV sample for sample; with the default engine to one
    int16 step (float rounding); batches of 3 over 7 inputs, one of them long enough to be chunked; one at a time and
    in batches with shape buckets on."""
    ckpt, mels = tiny_checkpoint, _mels(tmp_path, tiny_cfg)
    for backend, tolerance in (("invariant", 0), ("auto", 1)):
        outs = {}
        for batch, buckets in ((1, "off"), (3, "off"), (1, "on"), (3, "on")):
            out = tmp_path / f"{backend}-{batch}-{buckets}"
            code, _, err = run(capsys, "vocode", "-c", ckpt, "-o", out, "--batch", batch, "--backend", backend,
                               "--shape-buckets", buckets, "--no-progress", *mels)
            assert code == 0, err
            outs[batch, buckets] = _wavs(out, len(mels))
        for way in ((3, "off"), (1, "on"), (3, "on")):
            for alone, other, frames in zip(outs[1, "off"], outs[way], LENGTHS):
                assert other.shape == alone.shape == (frames * tiny_cfg.hop_size,)
                assert np.abs(other.astype(np.int32) - alone).max() <= tolerance, (backend, way)


def test_a_bad_batch_is_a_one_line_error_before_anything_is_written(tmp_path, capsys, tiny_checkpoint, tiny_cfg):
    ckpt, mels = tiny_checkpoint, _mels(tmp_path, tiny_cfg)
    for flags, message in ((["--batch", "2", "--stream"], "--batch and --stream exclude each other"),):
        code, _, err = run(capsys, "vocode", "-c", ckpt, "-o", tmp_path / "out", *flags, *mels)
        assert code == 2 and message in one_line(err)
        assert not (tmp_path / "out").exists()
