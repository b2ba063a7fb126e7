"""--max-frames and --max-message-bytes agree (serve.limits.fitted): a body of --max-frames fits in the bytes, the one
given leads where only one was, and two that disagree (or bytes that cannot hold one frame) are refused at start."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys

import httpx
import numpy as np
import pytest

from hifigan.errors import HifiganError
from hifigan.serve.codec import npy_bytes
from hifigan.serve.limits import ServeOptions, fitted, frames_within, npy_mel_bytes, option
from tests.support.cli_runs import run
from tests.support.files import REPO
from tests.support.serve_log import line_fields


def test_the_bytes_of_a_mel_are_those_numpy_save_writes():
    """128 bytes of header and 4 per value, for both shapes a client may send, up to where the header grows."""
    assert npy_mel_bytes(80, 20000) == 128 + 4 * 80 * 20000 == 6400128
    for shape in ((80, 1), (80, 20000), (1, 80, 20000), (16, 13106)):
        assert len(npy_bytes(np.zeros(shape, np.float32))) == npy_mel_bytes(shape[-2], shape[-1])


@pytest.mark.parametrize(("num_mels", "size"), [(80, 4 << 20), (80, 448), (80, 447), (16, 1 << 16), (128, 10 ** 6)])
def test_the_frames_within_a_size_are_the_most_whose_npy_fits(num_mels, size):
    frames = frames_within(num_mels, size)
    assert frames == max((size - 128) // (4 * num_mels), 0)
    assert len(npy_bytes(np.zeros((1, num_mels, frames + 1), np.float32))) > size
    if frames:
        assert len(npy_bytes(np.zeros((1, num_mels, frames), np.float32))) <= size


def test_every_limit_is_named_by_the_serve_option_that_sets_it():
    """serve.limits.option, the one spelling of a limit in every message, names for each ServeOptions field an
    option of `hifigan serve`, parsed into the field's name less `_s` (given 7, that is 7); no field, no option."""
    from hifigan.cli import build_parser
    from hifigan.cli.serving import run_serve

    assert option("idle_timeout_s") == "--idle-timeout" and option("max_batch_delay_ms") == "--max-batch-delay-ms"
    for f in dataclasses.fields(ServeOptions):
        args = build_parser().parse_args(["serve", "-c", "g.pt", option(f.name), "7"])
        assert args.func is run_serve and getattr(args, f.name.removesuffix("_s")) == 7, f.name
    with pytest.raises(ValueError, match="ServeOptions has no field 'max_frame'"):
        option("max_frame")


def test_the_option_given_leads_and_the_other_follows():
    """20000 frames of 80 mels need 6 400 128 bytes; 4 MiB hold 13 106 frames ((4194304 - 128) // 320)."""
    frames = ServeOptions(max_frames=20000)
    assert fitted(frames, 80, True, False) == ServeOptions(max_frames=20000, max_message_bytes=6400128)
    size = ServeOptions(max_message_bytes=1 << 20)  # 1 MiB: 3276 frames, not the default 4000
    assert fitted(size, 80, False, True) == ServeOptions(max_frames=3276, max_message_bytes=1 << 20)
    assert fitted(ServeOptions(), 80, False, False) == ServeOptions()  # the defaults agree: 1 280 128 bytes
    assert fitted(ServeOptions(), 300, False, False).max_message_bytes == 128 + 4 * 300 * 4000  # 4.8 MB > 4 MiB


def test_options_that_disagree_are_refused_naming_both_and_what_would_fit():
    with pytest.raises(HifiganError, match=re.escape(
            "--max-frames 20000 does not fit in --max-message-bytes 4194304: a body of 20000 frames of 80 mels is "
            "6400128 bytes (raise --max-message-bytes to 6400128, or lower --max-frames to 13106)")):
        fitted(ServeOptions(max_frames=20000), 80, True, True)
    for frames_given in (True, False):
        with pytest.raises(HifiganError, match=re.escape(
                "--max-message-bytes 10 cannot hold a mel of one frame: the .npy of float32 [1, 80, 1] is 448 bytes, "
                "and every request and stream message would be refused (413)")):
            fitted(ServeOptions(max_message_bytes=10), 80, frames_given, True)


def test_an_app_built_in_python_fits_its_limits_by_the_same_rule():
    """build_app with a vocoder of 16 mels: the field set leads, the default follows, as on the command line; bytes
    that cannot hold one frame are refused in the CLI's words (before, they were served as given: every body 413)."""
    from hifigan.inference.vocoder import Vocoder
    from hifigan.models import Generator
    from hifigan.serve.routes import build_app
    from tests.support.tiny import tiny_config

    cfg = tiny_config()
    vocoder = Vocoder(Generator(cfg), cfg)
    limits = [(build_app(vocoder, "tiny", options).state.serve.options.max_frames,
               build_app(vocoder, "tiny", options).state.serve.options.max_message_bytes)
              for options in (ServeOptions(max_frames=70000), ServeOptions(max_message_bytes=65536), ServeOptions())]
    assert limits == [(70000, 4480128), (1022, 65536), (4000, 4 << 20)]
    with pytest.raises(HifiganError, match=re.escape(
            "--max-message-bytes 10 cannot hold a mel of one frame: the .npy of float32 [1, 16, 1] is 192 bytes")):
        build_app(vocoder, "tiny", ServeOptions(max_message_bytes=10))
    unfitted = ServeOptions(max_frames=70000)  # without a vocoder the caller fits them (hifigan serve does)
    assert build_app(None, "tiny", unfitted).state.serve.options == unfitted


@pytest.mark.parametrize(("flags", "message"), [
    (["--max-message-bytes", "10"], "--max-message-bytes 10 cannot hold a mel of one frame: the .npy of float32 "
                                    "[1, 16, 1] is 192 bytes"),
    (["--max-frames", "70000", "--max-message-bytes", "4194304"],
     "--max-frames 70000 does not fit in --max-message-bytes 4194304: a body of 70000 frames of 16 mels is 4480128 "
     "bytes (raise --max-message-bytes to 4480128, or lower --max-frames to 65534)"),
])
def test_serve_refuses_limits_that_disagree_in_one_line_before_listening(capsys, tiny_checkpoint, flags, message):
    """(Without the check, cuda-graph on the CPU stops the server once it listens, in a line of its own.)"""
    code, _, err = run(capsys, "serve", "-c", tiny_checkpoint, "--port", "0", "--threads", "1", "--device", "cpu",
                       "--backend", "cuda-graph", *flags)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith(f"hifigan serve: error: {message}"), err


def test_serve_derives_the_limit_not_given_from_the_one_given(tiny_checkpoint):
    """What /v1/info says of two servers of the tiny 16-mel model, each given one of the two."""
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    runs = {"--max-frames": "70000", "--max-message-bytes": "65536"}
    procs = [subprocess.Popen([sys.executable, "-m", "hifigan", "serve", "-c", str(tiny_checkpoint), "--port", "0",
                               "--threads", "1", flag, value], stderr=subprocess.PIPE, text=True, env=env)
             for flag, value in runs.items()]
    try:
        infos = []
        for proc in procs:
            url = line_fields(proc.stderr.readline().rstrip())["url"]
            ready = line_fields(proc.stderr.readline().rstrip())
            infos.append(httpx.get(f"{url}/v1/info").json())
            said = ("model", "backend", "device", "max_batch", "max_batch_delay_ms", "max_frames", "max_message_bytes")
            assert ready.pop("event") == "ready" and re.fullmatch(r"[\d.]+s", ready.pop("load")), ready
            assert ready == {"weights": infos[-1]["weights_sha256"][:12],  # no step: the file records none
                             **{key: f"{infos[-1][key]:g}" if key == "max_batch_delay_ms" else str(infos[-1][key])
                                for key in said}}, ready
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    assert [(i["max_frames"], i["max_message_bytes"]) for i in infos] == [(70000, 4480128), (1022, 65536)]
