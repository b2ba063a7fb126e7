"""`hifigan vocode` on long-form input (an audiobook's mel): a chunked input's audio goes to its WAV chunk by chunk,
so memory does not grow with the audio's length; the WAV is the one the whole audio would give, and a chunk that
fails (NaN output, a full disk) leaves no file."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest
import torch

from hifigan.audio import save_audio
from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.files.write_failures import FILE_SIZE_LIMIT
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from tests.support.cli_runs import failed_cleanly, run, shown_on_a_terminal
from tests.support.full_disk import file_size_limit
from tests.support.tiny import stft_for_hop, tiny_config

FRAMES = 12000  # 384 s of audio (hop 256 at 8 kHz): past the 4000 frames that are chunked without --stream


@pytest.fixture(scope="module")
def hop256(tmp_path_factory):
    """A tiny generator of 4 mel bins at hop 256, so that its audio, not its mel, is what a long input's memory is:
    (checkpoint, config, mel file, mel)."""
    cfg = tiny_config(num_mels=4, upsample_rates=[16, 16], upsample_kernel_sizes=[32, 32], **stft_for_hop(256))
    folder = tmp_path_factory.mktemp("hop256")
    torch.manual_seed(0)
    write_checkpoint(folder / "g.pt", generator_payload(Generator(cfg).state_dict(), cfg))
    mel = np.random.default_rng(0).uniform(-9, -3, (cfg.num_mels, FRAMES)).astype(np.float32)
    np.save(folder / "long.npy", mel)
    return folder / "g.pt", cfg, folder / "long.npy", mel


def test_a_long_input_is_written_chunk_by_chunk(tmp_path, capsys, hop256):
    """Before, the whole audio was gathered, then scaled, clipped and encoded in memory: ~9 bytes of numpy and
    BytesIO buffers per sample on top of the float audio (25 MB traced here; an hour of audio at 22.05 kHz and
    hop 256 peaked at 1.67 GB RSS, against 0.76 GB now). Now they stay within a chunk's size (1.4 MB traced here,
    mostly the mel's checks), and the WAV is byte for byte the whole audio's."""
    ckpt, cfg, mel_file, mel = hop256
    np.save(tmp_path / "short.npy", mel[:, :50])  # a first run imports what vocode imports, outside the count
    code, _, err = run(capsys, "vocode", "-c", ckpt, "-o", tmp_path / "warm", "--stream", tmp_path / "short.npy")
    assert code == 0, err
    tracemalloc.start()
    try:
        code, _, err = run(capsys, "vocode", "-c", ckpt, "-o", tmp_path / "out", "--no-progress", "--quiet",
                           "--chunk-frames", 200, mel_file)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == 0, err
    wav = (tmp_path / "out" / "long.wav").read_bytes()
    assert len(wav) == 44 + 2 * FRAMES * cfg.hop_size
    assert peak < len(wav) / 3, peak  # a 200-frame chunk is 1/60 of the audio
    save_audio(tmp_path / "whole.wav", Vocoder.from_checkpoint(ckpt).chunked(mel, 200), cfg.sampling_rate)
    assert wav == (tmp_path / "whole.wav").read_bytes()


def test_a_chunked_input_whose_audio_holds_nan_leaves_no_file(tmp_path, capsys, hop256):
    """A generator whose weights hold a NaN: the first chunk is refused, one line naming the input, and no WAV nor
    temporary file stays (the output folder, made by the command, goes too)."""
    _, cfg, mel_file, _ = hop256
    generator = Generator(cfg)
    with torch.no_grad():
        generator.conv_post.parametrizations.weight.original1[0, 0, 0] = float("nan")
    write_checkpoint(tmp_path / "nan.pt", generator_payload(generator.state_dict(), cfg))
    code, _, err = run(capsys, "vocode", "-c", tmp_path / "nan.pt", "-o", tmp_path / "out", "--no-progress",
                       "--stream", mel_file)
    failed_cleanly(code, err, tmp_path / "out", f"{mel_file}: the generator's output holds NaN or inf",
                   "no long.wav written")


def test_a_chunked_write_that_fills_the_disk_leaves_no_file(tmp_path, capsys, hop256):
    """The disk fills after the first chunks were written: one line naming the WAV, and nothing of it stays."""
    ckpt, _, mel_file, _ = hop256
    out = tmp_path / "out"
    with file_size_limit(256 * 1024):  # the WAV is 3 MB
        code, _, err = run(capsys, "vocode", "-c", ckpt, "-o", out, "--no-progress", mel_file)
    failed_cleanly(code, err, out, f"{out / 'long.wav'}: cannot write ({FILE_SIZE_LIMIT})")


def test_a_single_long_input_shows_a_bar_of_its_chunks_on_a_terminal(tmp_path, monkeypatch, hop256):
    """An hour of audiobook takes minutes: one input gets a bar of its chunks (many inputs get one of files), on a
    real terminal (a pseudo-terminal as stderr) and nowhere else."""
    ckpt, _, mel_file, _ = hop256
    shown = shown_on_a_terminal(monkeypatch, ["vocode", "-c", ckpt, "-o", tmp_path / "out", "--chunk-frames", "4000",
                                              mel_file])
    assert "long.npy: 100%" in shown and "3/3 [" in shown and "chunk/s" in shown, shown


UNUSED_CHUNKS = ("--chunk-frames applies to --stream and to inputs longer than 4000 frames (chunked by themselves), "
                 "and neither was the case: ignored, every input was vocoded whole")


def test_chunk_frames_that_chunks_nothing_warns(tmp_path, capsys, hop256):
    """`--chunk-frames 7` without --stream on inputs of 4000 frames or fewer did nothing, without a word: a
    deployer checking streaming at the edges compared whole-mel audio with itself. One warning where nothing was
    chunked; none with --stream, nor where a long input was chunked by itself."""
    ckpt, _, mel_file, mel = hop256
    np.save(tmp_path / "short.npy", mel[:, :4000])
    with pytest.warns(UserWarning) as caught:
        code, _, err = run(capsys, "vocode", "-c", ckpt, "-o", tmp_path / "a", "--chunk-frames", 7,
                           tmp_path / "short.npy")
    assert code == 0, err
    assert [str(w.message) for w in caught if "--chunk-frames" in str(w.message)] == [UNUSED_CHUNKS]
    for extra, inputs in ((["--stream"], [tmp_path / "short.npy"]), ([], [tmp_path / "short.npy", mel_file])):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code, _, err = run(capsys, "vocode", "-c", ckpt, "-o", tmp_path / "b", "--no-progress",
                               "--chunk-frames", 2000, *extra, *inputs)
        assert code == 0, err
        assert not [w for w in caught if "--chunk-frames" in str(w.message)], extra
