"""What one server's routes and streams share (`ServeState`): the model (once loaded), its scheduler, the limits, the
metrics, and the drain bookkeeping; and what /v1/info says of them."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from hifigan.inference.choices import BATCH_INVARIANT
from hifigan.inference.streaming import reported_ms
from hifigan.inference.vocoder import Vocoder
from hifigan.melconv.model import ModelMel
from hifigan.serve.codec import RequestError
from hifigan.serve.identity import ModelIdentity
from hifigan.serve.limits import ServeOptions
from hifigan.serve.log_lines import line
from hifigan.serve.monitoring import Metrics
from hifigan.serve.scheduler import Scheduler

log = logging.getLogger("hifigan.serve")


@dataclass
class ServeState:
    """What the routes and streams share: the model and its scheduler (None while the model loads: the server listens
    first, so that probes and clients get an answer), the limits, the metrics, the drain bookkeeping."""

    name: str
    options: ServeOptions
    metrics: Metrics
    vocoder: Vocoder | None = None
    scheduler: Scheduler | None = None
    draining: bool = False
    in_flight: int = 0  # requests and streams being served (a drain waits for them), requests still receiving too
    receiving: int = 0  # requests whose body is still arriving (no mel for the scheduler yet)
    streams: int = 0
    sessions: set = field(default_factory=set)  # the open streams (streams._Session), to look into
    closed: bool = False  # the app has shut down: a model whose load ends after it is not started
    started: float = field(default_factory=time.monotonic)
    debug: bool = False  # `hifigan serve --debug`: the traceback of a batcher's failure is logged too
    identity: ModelIdentity = field(default_factory=ModelIdentity)  # its step and weights' hash, for /v1/info

    @property
    def status(self) -> str:
        """What /readyz (and /healthz) and /livez say: 'loading' until the model is ready, 'failed' once its batcher
        stopped on an error, 'draining' once a drain began, or 'ok'."""
        if self.failure is not None:
            return "failed"
        return "draining" if self.draining else "loading" if self.scheduler is None else "ok"

    @property
    def failure(self) -> str | None:
        """Why the model's batcher stopped (no mel is vocoded any more), or None."""
        failed = self.scheduler.failure if self.scheduler is not None else None
        return None if failed is None else str(failed)

    def ready(self, vocoder: Vocoder) -> None:
        """The model is loaded: start its scheduler (from any thread); requests are taken from here on."""
        if self.closed:
            return
        scheduler = Scheduler(vocoder, self.options.max_batch, self.options.max_batch_delay_ms, self.metrics.on_batch,
                              clients=lambda: self.in_flight - self.receiving, on_failure=self._batcher_failed)
        self.vocoder = vocoder
        self.scheduler = scheduler.start()  # last: `status` is 'ok' once everything is in place

    def _batcher_failed(self, error: BaseException) -> None:
        """One line in the log naming the error that stopped the batcher (its traceback too with --debug)."""
        log.error(line(event="batcher-stopped", error=f"{type(error).__name__}: {error}",
                       msg="every request is now answered 503 and /readyz and /livez say 'failed': restart the server"
                           + ("" if self.debug else " (--debug logs the traceback)")),
                  exc_info=error if self.debug else None)

    def refusal(self) -> RequestError | None:
        """Why new work is refused now (503), or None: the model's batcher failed, it is still loading, or the server
        is shutting down."""
        if self.failure is not None:
            return RequestError(503, self.failure)
        if self.draining:
            return RequestError(503, "the server is shutting down")
        if self.scheduler is None:
            return RequestError(503, "the model is still loading: try again in a moment (/readyz says 200 once it "
                                     "is ready)")
        return None

    @property
    def sampling_rate(self) -> int:
        return self.vocoder.config.sampling_rate

    @property
    def model_mel(self) -> ModelMel:
        """The mel the model takes, as /v1/info's `mel` and /openapi.json name it."""
        return ModelMel.of(self.vocoder.config)

    def info(self) -> dict:
        config, field_ = self.vocoder.config, self.vocoder.receptive_field
        return {
            "model": self.name, "step": self.identity.step, "weights_sha256": self.identity.weights_sha256,
            "sampling_rate": config.sampling_rate, "num_mels": config.num_mels,
            "hop_size": config.hop_size, "mel_convention": config.mel_convention,
            "mel": self.model_mel.label,  # as hifigan configs and check-mel name it; mel_convention alone may not
            "lookahead_frames": field_.right, "latency_ms": reported_ms(config.frames_ms(field_.right)),
            "backend": self.vocoder.backend, "batch_invariant": self.vocoder.backend in BATCH_INVARIANT,
            "device": str(self.vocoder.device), "precision": self.vocoder.precision,
            "shape_buckets": self.vocoder.buckets is not None,
            "dtype": str(self.vocoder.io_dtype).removeprefix("torch."), "max_batch": self.options.max_batch,
            "max_batch_delay_ms": self.options.max_batch_delay_ms, "max_frames": self.options.max_frames,
            "max_streams": self.options.max_streams, "max_message_bytes": self.options.max_message_bytes,
        }
