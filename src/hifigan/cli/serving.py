"""`hifigan serve`: the vocoding server's options (the library is the package hifigan.serve; this module is not named
serve.py, which is the listening test's server, hifigan.evaluation.listening.serve)."""

from __future__ import annotations

import argparse
import gc

from hifigan.cli.common import Amount, Count, add_address, add_command, add_device, add_inference_options, add_threads
from hifigan.cli.model_source import add_generator_source
from hifigan.serve.limits import DEFAULTS, RANGES, ServeOptions, fitted, serve_buckets


def add_serve(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "serve", run_serve,
        help="serve vocoding over HTTP and WebSocket, batching concurrent requests and streams",
        description="Serve API v1 (docs/serving.md; /openapi.json): POST /v1/vocode takes a .npy mel and answers a "
        "16-bit WAV, the same samples as hifigan vocode; WebSocket /v1/stream takes mel frames and sends PCM as soon "
        "as the receptive field allows; /livez, /readyz, /v1/info, /metrics (Prometheus). One scheduler batches the "
        "whole requests and the streams' windows into forward passes of at most --max-batch; each output equals "
        "vocoding it alone. Starlette on uvicorn; needs the 'serve' extra. SIGTERM or Ctrl+C finish the work in "
        "flight and exit 0 (a second Ctrl+C exits at once).",
        epilog="examples:\n"
        "  hifigan serve --pretrained lj-v1\n"
        "  hifigan serve -c runs/demo/run/checkpoints/latest.pt --port 8001 --threads 2\n"
        "  curl --data-binary @mel.npy -H 'Content-Type: application/x-npy' localhost:8000/v1/vocode -o out.wav",
    )
    add_generator_source(p)
    add_device(p)
    add_inference_options(p, served=True)
    add_address(p)
    add_threads(p, note="with several replicas, cores / replicas")
    g = p.add_argument_group("batching and limits")
    g.add_argument("--max-batch", type=limit("max_batch"), default=DEFAULTS.max_batch, metavar="N",
                   help=f"mels per forward pass at most (default {DEFAULTS.max_batch}; 1: no batching)")
    g.add_argument("--max-batch-delay-ms", type=limit("max_batch_delay_ms"), default=DEFAULTS.max_batch_delay_ms,
                   metavar="MS",
                   help=f"how long the oldest queued mel waits for other clients (default "
                        f"{DEFAULTS.max_batch_delay_ms:g}; none when no other client is being served)")
    g.add_argument("--max-frames", type=limit("max_frames"), default=None, metavar="FRAMES",
                   help=f"mel frames per request or stream at most (default {DEFAULTS.max_frames}, or fewer where a "
                        f"given --max-message-bytes holds fewer)")
    g.add_argument("--max-streams", type=limit("max_streams"), default=DEFAULTS.max_streams, metavar="N",
                   help=f"open streams at most (default {DEFAULTS.max_streams})")
    g.add_argument("--max-message-bytes", type=limit("max_message_bytes"), default=None, metavar="BYTES",
                   help=f"size of a request body or stream message at most (default {DEFAULTS.max_message_bytes}, or "
                        f"more where a body of --max-frames needs more); with both given, a body of --max-frames must "
                        f"fit")
    g.add_argument("--idle-timeout", type=limit("idle_timeout_s"), default=DEFAULTS.idle_timeout_s, metavar="S",
                   help=f"close a stream silent this long, and answer 408 to a request body of which nothing arrives "
                        f"this long (default {DEFAULTS.idle_timeout_s:g} s)")
    g.add_argument("--body-timeout", type=limit("body_timeout_s"), default=DEFAULTS.body_timeout_s, metavar="S",
                   help=f"answer 408 to a request body not all arrived this long after its headers, however steadily "
                        f"it trickles in (default {DEFAULTS.body_timeout_s:g} s)")
    g.add_argument("--stream-timeout", type=limit("stream_timeout_s"), default=DEFAULTS.stream_timeout_s, metavar="S",
                   help=f"close a stream that has kept the server waiting for its messages this long in all, however "
                        f"steadily they come (default {DEFAULTS.stream_timeout_s:g} s; the time after 'end', and while "
                        f"the server holds back its reading, does not count)")
    g.add_argument("--header-timeout", type=limit("header_timeout_s"), default=DEFAULTS.header_timeout_s, metavar="S",
                   help=f"close a connection whose request headers have not all arrived this long after it opened (or "
                        f"after their first byte, on a kept-alive one), answering 408 if any came (default "
                        f"{DEFAULTS.header_timeout_s:g} s)")
    g.add_argument("--send-timeout", type=limit("send_timeout_s"), default=DEFAULTS.send_timeout_s, metavar="S",
                   help=f"reset a connection whose client leaves what it is sent unread this long once the buffers "
                        f"on the way are full (a request's answer, a stream's audio; default "
                        f"{DEFAULTS.send_timeout_s:g} s)")
    g.add_argument("--max-connections", type=limit("max_connections"), default=DEFAULTS.max_connections, metavar="N",
                   help=f"open connections (requests and streams) at most; one more is answered 503 and closed "
                        f"(default {DEFAULTS.max_connections})")
    g.add_argument("--stream-backlog", type=limit("stream_backlog"), default=DEFAULTS.stream_backlog, metavar="FRAMES",
                   help="ready mel frames a stream may gather while its window is computed or sent (default "
                   f"{DEFAULTS.stream_backlog}); beyond that its input is not read (a slow reader holds itself back)")
    g.add_argument("--drain-timeout", type=limit("drain_timeout_s"), default=DEFAULTS.drain_timeout_s, metavar="S",
                   help=f"on SIGTERM, wait at most this long for work in flight (default "
                        f"{DEFAULTS.drain_timeout_s:g} s)")


def run_serve(args: argparse.Namespace) -> int:
    from hifigan.runtime.extras import optional_import

    for package in ("starlette", "uvicorn", "prometheus_client"):  # a missing extra fails before the model loads
        optional_import(package, "hifigan serve")
    import torch

    from hifigan.cli.model_source import generator_from_args
    from hifigan.inference.engines import require_backend
    from hifigan.inference.vocoder import Vocoder
    from hifigan.pretrained import get_model
    from hifigan.runtime.devices import resolve_device
    from hifigan.serve.identity import model_identity
    from hifigan.serve.routes import build_app
    from hifigan.serve.server import bind, serve

    frames_given, bytes_given = args.max_frames is not None, args.max_message_bytes is not None
    options = ServeOptions(args.max_batch, args.max_batch_delay_ms,
                           args.max_frames if frames_given else DEFAULTS.max_frames, args.max_streams,
                           args.max_message_bytes if bytes_given else DEFAULTS.max_message_bytes, args.idle_timeout,
                           args.stream_backlog, args.drain_timeout, args.body_timeout, args.max_connections,
                           args.header_timeout, args.stream_timeout, args.send_timeout)
    device = resolve_device(args.device, cli=True)
    require_backend(args.backend)
    sock = bind(args.host, args.port)  # a bad or used address fails before the checkpoint is read
    with sock:  # --threads holds for the server's life (main: torch_threads)
        generator, config = generator_from_args(args)  # a bad checkpoint is one line before the server listens
        options = fitted(options, config.num_mels, frames_given, bytes_given)  # limits that agree, or one line

        def load() -> Vocoder:  # in the server's loader thread, while it answers /livez (200) and /readyz (503)
            vocoder = Vocoder(generator, config, device=args.device, backend=args.backend, precision=args.precision,
                              shape_buckets=serve_buckets(args.shape_buckets, device.type), cli=True)
            vocoder.batch([torch.zeros(config.num_mels, 8), torch.zeros(config.num_mels, 5)])  # warm up before ready
            return vocoder

        name = args.pretrained or args.checkpoint.name
        official_name = get_model(args.pretrained).official_name if args.pretrained else None
        identity = model_identity(generator, args.checkpoint, official_name)  # before the Vocoder transforms it
        code = serve(build_app(None, name, options, debug=args.debug, identity=identity), sock, args.host, load)
    # The process ends: the interpreter's last collections would walk every object of torch and the model several
    # times (~0.5 s of CPU, most of an idle server's exit after SIGTERM on a 2-core EPYC). Frozen, they are left to
    # the exit; what a cycle holds is then not finalized, which Python never promises at exit (logging and the
    # standard streams are flushed, and the socket closed, all the same).
    gc.freeze()
    return code


def limit(field: str) -> Count | Amount:
    """The `type=` of the option that sets a ServeOptions field: its range (serve.limits.RANGES; an int field: 1 or
    more), checked as the command line is parsed."""
    return Amount(**RANGES[field]) if field in RANGES else Count(1)
