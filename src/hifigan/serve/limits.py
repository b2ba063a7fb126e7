"""`ServeOptions`: what `hifigan serve` is told about batching and limits, one typed place (the CLI fills it), with
`fitted`, the rule that makes --max-frames and --max-message-bytes agree for a model (`fitted_as_set`: the same rule
for options built in Python); `serve_buckets`, the shape buckets a server's model runs with; and where a server
listens unless told (DEFAULT_HOST, DEFAULT_PORT: the client's default URL too)."""

from __future__ import annotations

import io
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

from hifigan.config.values import integer_problem, number_problem
from hifigan.errors import HifiganError

if TYPE_CHECKING:
    from hifigan.inference.packing import Buckets


@dataclass(frozen=True)
class ServeOptions:
    """Batching (`max_batch` mels per forward pass, waiting at most `max_batch_delay_ms` for more) and limits:
    `max_frames` per request or stream, `max_streams` open at once, `max_message_bytes` per body or message,
    `idle_timeout_s` of a stream without a message (or a request body without a byte), `stream_backlog` ready mel
    frames a stream may gather while its window is in flight (beyond, its input is not read: a slow reader holds
    itself back), `drain_timeout_s` to finish in-flight work on SIGTERM, `body_timeout_s` for a whole request body
    (one trickled a byte just inside each idle timeout would otherwise hold its connection, and a drain, for ever),
    `max_connections` open at once (HTTP and WebSocket; one more is answered 503), `header_timeout_s` for a
    request's headers (serve.http_protocol: uvicorn bounds neither), `stream_timeout_s`, the whole time a stream may
    keep the server waiting for its messages (a frame sent just inside each idle timeout would hold a --max-streams
    slot for ever), and `send_timeout_s`, how long a client may leave unread what the server sends it once the
    connection's buffers are full (serve.connections: a reader that stalls held its connection, and a stream its slot
    and a drain, for as long as it kept the connection open)."""

    max_batch: int = 16
    max_batch_delay_ms: float = 5.0
    max_frames: int = 4000
    max_streams: int = 64
    max_message_bytes: int = 4 << 20
    idle_timeout_s: float = 30.0
    stream_backlog: int = 1000
    drain_timeout_s: float = 60.0
    body_timeout_s: float = 60.0
    max_connections: int = 256
    header_timeout_s: float = 10.0
    stream_timeout_s: float = 120.0
    send_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        """Each field in its range (RANGES), else one line naming its option in config.values' words."""
        for f in fields(self):
            value = getattr(self, f.name)
            problem = (number_problem(value, **RANGES[f.name]) if f.name in RANGES
                       else integer_problem(value, 1))  # the others are counts: 1 or more
            if problem is not None:
                raise HifiganError(None, f"{option(f.name)} {problem}")


# Where `hifigan serve` listens unless told (this machine only), and so where the client looks unless told.
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000

# Each float field's range, as config.values.number_problem (and cli.common.Amount) take it. The timeouts have no
# 'off' (0), but inf: no bound; a mel would wait for a client that may never send, so the batching delay is finite.
RANGES: dict[str, dict] = {
    "max_batch_delay_ms": dict(low=0.0, why=" (the milliseconds a mel may wait for others to join its pass)"),
    "drain_timeout_s": dict(low=0.0, inf=True),
    **{f"{name}_timeout_s": dict(low=0.0, low_open=True, inf=True)
       for name in ("idle", "body", "header", "stream", "send")}}

# What each limit is unless told (the options' defaults and their help's); built after RANGES, which its check reads.
DEFAULTS = ServeOptions()


def npy_mel_bytes(num_mels: int, frames: int) -> int:
    """The size of the .npy of a float32 [1, num_mels, frames] mel (the longer header of the two shapes a body or
    message may have): what --max-message-bytes must hold for a body of `frames`."""
    from numpy.lib import format as npy_format

    header = io.BytesIO()
    npy_format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                               "shape": (1, num_mels, frames)})
    return header.tell() + 4 * num_mels * frames


def frames_within(num_mels: int, size: int) -> int:
    """The most frames whose .npy (npy_mel_bytes) is at most `size` bytes (0: not even one)."""
    frames = max((size - npy_mel_bytes(num_mels, 0)) // (4 * num_mels), 0)  # the header alone, then 4 bytes a value
    while frames > 0 and npy_mel_bytes(num_mels, frames) > size:  # a longer count can take a longer header
        frames -= 1
    return frames


def fitted(options: ServeOptions, num_mels: int, frames_given: bool, bytes_given: bool) -> ServeOptions:
    """`options` whose body of --max-frames fits in --max-message-bytes for a model of `num_mels`: where only one of
    the two was given, the other follows it (more bytes for the frames; fewer frames for the bytes); where both were
    given and disagree, or the bytes cannot hold one frame (every body and message a 413), a HifiganError naming both
    and the numbers that would fit. A stream's messages are bounded by the bytes alone (its frames may come in many)."""
    frames, size = options.max_frames, options.max_message_bytes
    need, fits = npy_mel_bytes(num_mels, frames), frames_within(num_mels, size)
    if need <= size:
        return options
    if not bytes_given:
        return replace(options, max_message_bytes=need)
    frames_option, bytes_option = option("max_frames"), option("max_message_bytes")
    if fits < 1:
        raise HifiganError(None, f"{bytes_option} {size} cannot hold a mel of one frame: the .npy of float32 "
                                 f"[1, {num_mels}, 1] is {npy_mel_bytes(num_mels, 1)} bytes, and every request and "
                                 "stream message would be refused (413)")
    if not frames_given:
        return replace(options, max_frames=fits)
    raise HifiganError(None, f"{frames_option} {frames} does not fit in {bytes_option} {size}: a body of {frames} "
                             f"frames of {num_mels} mels is {need} bytes (raise {bytes_option} to {need}, or lower "
                             f"{frames_option} to {fits})")


def fitted_as_set(options: ServeOptions, num_mels: int) -> ServeOptions:
    """`fitted` for options built in Python (serve.routes.build_app's): each of max_frames and max_message_bytes
    counts as given where it is not ServeOptions' default, as an option on the command line is where it was typed."""
    return fitted(options, num_mels, options.max_frames != DEFAULTS.max_frames,
                  options.max_message_bytes != DEFAULTS.max_message_bytes)


def option(field: str) -> str:
    """The `hifigan serve` option that sets a ServeOptions field: the field's name, less a unit suffix `_s` (every
    message names an option this way; a name that is no field is a ValueError, not an option that does not exist)."""
    if field not in {f.name for f in fields(ServeOptions)}:
        raise ValueError(f"ServeOptions has no field {field!r}")
    return "--" + field.removesuffix("_s").replace("_", "-")


def serve_buckets(choice: str, device_type: str) -> bool | Buckets | None:
    """What `hifigan serve --shape-buckets CHOICE` gives `Vocoder(shape_buckets=...)` on a device type. On the CPU,
    `auto` and `on` are buckets that never run a shape as it is (`Buckets.exact_after` None): a server meets every
    length, each exact shape keeps its convolution primitives in oneDNN's cache and the memory they take, and over a
    long life every common length would become one; bucketed, the shapes, and the process's memory, stay bounded
    (docs/serving.md, Memory). Elsewhere `hifigan vocode`'s choice (auto: on with CUDA)."""
    from hifigan.inference.choices import SHAPE_BUCKETS

    chosen = SHAPE_BUCKETS[choice]
    if device_type != "cpu" or chosen is False:
        return chosen
    from hifigan.inference.packing import Buckets

    return Buckets(exact_after=None)
