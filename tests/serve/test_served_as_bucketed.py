"""What `hifigan serve` answers on the CPU, where it buckets every pass: the samples of `hifigan vocode --shape-buckets
on`, bit for bit, which are not always those of `hifigan vocode`'s CPU default (unbucketed) (docs/serving.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.cli import main
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.client import Client
from hifigan.serve.limits import ServeOptions, serve_buckets
from tests.support.files import CORPUS
from tests.support.serve import running_server
from tests.support.tiny import tiny_config


def test_a_lone_request_is_what_vocode_with_shape_buckets_on_writes(tmp_path: Path) -> None:
    # 80 mels at hop 256 (x16 x16, 32 channels): wide enough that bucketed and unbucketed passes round some int16
    # samples differently on a real speech mel (the 16-bin tiny model of test_api.py rounds them all alike)
    config = tiny_config(sampling_rate=22050, hop_size=256, n_fft=1024, win_size=1024, num_mels=80, fmax=8000,
                         upsample_rates=[16, 16], upsample_kernel_sizes=[32, 32], segment_size=4096)
    torch.manual_seed(0)
    checkpoint = tmp_path / "tiny80.pt"
    write_checkpoint(checkpoint, generator_payload(Generator(config).state_dict(), config))
    mel_path = tmp_path / "LJ001-0013.npy"
    assert main(["mel", "-q", str(CORPUS / "LJ001-0013.wav"), "-o", str(mel_path), "-c", str(checkpoint)]) == 0
    written = {}
    for buckets in ("on", "off"):
        out = tmp_path / buckets
        assert main(["vocode", "-q", "-c", str(checkpoint), "-o", str(out), "--shape-buckets", buckets,
                     str(mel_path)]) == 0
        written[buckets] = sf.read(out / "LJ001-0013.wav", dtype="int16")[0]
    vocoder = Vocoder.from_checkpoint(checkpoint, shape_buckets=serve_buckets("auto", "cpu"))  # as serve builds it
    with running_server(vocoder, ServeOptions()) as running:
        served = Client(running.url).vocode(np.load(mel_path))
    assert np.array_equal(served, written["on"])
    # unbucketed (vocode's CPU default) a few samples on an int16 rounding boundary may move by one step; how many
    # depends on the CPU's convolution kernels, so only the bound is asserted
    assert np.abs(served.astype(np.int32) - written["off"]).max() <= 1
