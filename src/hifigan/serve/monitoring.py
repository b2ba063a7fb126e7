"""The server's Prometheus metrics (prometheus_client, a registry of its own per app): requests and errors by
route, connections the server dropped on its own (before a request, or reset for not reading), active streams, queue
depth, batch sizes, each batch's seconds (and the worker's CPU seconds in them), the batches retried one mel at a
time, each mel's wait for its batch, audio seconds produced, time to first audio, request latency; which model
answers (hifigan_model_info) and the process's own figures (process_*: resident memory, CPU seconds, open file
descriptors against their limit)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hifigan.runtime.extras import optional_import

if TYPE_CHECKING:
    from hifigan.serve.identity import ModelIdentity
    from hifigan.serve.scheduler import BatchDone

prom = optional_import("prometheus_client", "hifigan serve")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (0.001, 0.0025, *LATENCY_BUCKETS)  # a GPU vocodes a batch in milliseconds (V1, 2 s: ~2 ms on an H200)


class Metrics:
    """One server's counters, gauges and histograms; `text()` is the /metrics page."""

    def __init__(self, max_batch: int) -> None:
        prom.disable_created_metrics()  # no *_created series: creation times are noise on a dashboard
        self.registry = prom.CollectorRegistry()
        r = self.registry
        self.requests = prom.Counter("hifigan_requests", "Requests (and streams) answered, by route and status",
                                     ["route", "status"], registry=r)
        self.errors = prom.Counter("hifigan_errors", "Requests answered with an error, by route", ["route"],
                                   registry=r)
        self.dropped = prom.Counter("hifigan_connections_dropped", "Connections the server ended on its own, by "
                                    "reason (serve.connections): answered and closed before a request reached the "
                                    "app, or reset for not reading what they were sent (send-timeout)", ["reason"],
                                    registry=r)
        self.active_streams = prom.Gauge("hifigan_active_streams", "Open WebSocket streams", registry=r)
        self.queue_depth = prom.Gauge("hifigan_queue_depth", "Mels waiting for a forward pass", registry=r)
        buckets = sorted({1, 2, 4, 8, 16, 32, 64, max_batch} & set(range(1, max_batch + 1)))
        self.batch_size = prom.Histogram("hifigan_batch_size", "Mels per batch (one forward pass; a retried batch's "
                                         "failed pass and its lone ones count as one batch)", buckets=buckets,
                                         registry=r)
        self.batch_seconds = prom.Histogram("hifigan_batch_seconds", "Seconds each batch took to vocode (packing, "
                                            "the model's passes, the copy back to the CPU)", buckets=BATCH_BUCKETS,
                                            registry=r)
        self.batch_cpu_seconds = prom.Counter("hifigan_batch_cpu_seconds", "CPU seconds the worker's thread spent "
                                              "vocoding batches (hifigan_batch_seconds_sum less this: it waited, for "
                                              "the GPU, a core or the GIL)", registry=r)
        self.batches_retried = prom.Counter("hifigan_batches_retried", "Batches whose forward pass failed (out of "
                                            "memory, a mel the model fails on) and whose mels were then vocoded one "
                                            "at a time", registry=r)
        self.queue_wait = prom.Histogram("hifigan_queue_wait_seconds", "Each mel's wait in the queue, from its "
                                         "arrival to the start of its batch", buckets=BATCH_BUCKETS, registry=r)
        self.audio_seconds = prom.Counter("hifigan_audio_seconds", "Seconds of audio produced", registry=r)
        self.first_audio = prom.Histogram("hifigan_time_to_first_audio_seconds", "From a request's (a stream's "
                                          "first message's) arrival to its first audio sent, by route", ["route"],
                                          buckets=LATENCY_BUCKETS, registry=r)
        self.latency = prom.Histogram("hifigan_request_latency_seconds", "From a request's arrival to its last "
                                      "audio sent, by route", ["route"], buckets=LATENCY_BUCKETS, registry=r)
        self.model = prom.Info("hifigan_model", "The model this server answers with, as /v1/info names it (a "
                               "fleet's dashboard tells its replicas' models apart by it)", registry=r)
        # The process's memory, CPU and file descriptors (none on a system without /proc): the default registry's
        # collector, which a registry of its own would otherwise lack.
        prom.ProcessCollector(registry=r)

    def on_batch(self, done: BatchDone) -> None:
        """The scheduler's report of one batch (called from its thread; prometheus_client is thread-safe)."""
        self.batch_size.observe(done.size)
        self.batch_seconds.observe(done.seconds)
        self.batch_cpu_seconds.inc(done.cpu_seconds)
        if done.retried:
            self.batches_retried.inc()
        for wait in done.waits:
            self.queue_wait.observe(wait)

    def named(self, model: str, identity: ModelIdentity) -> None:
        """hifigan_model_info's labels: the model's name, step and weights' sha256 ('' where unknown)."""
        self.model.info({"model": model, "step": "" if identity.step is None else str(identity.step),
                         "weights_sha256": identity.weights_sha256 or ""})

    def answered(self, route: str, status: int) -> None:
        self.requests.labels(route, str(status)).inc()
        if status >= 400:
            self.errors.labels(route).inc()

    def text(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return prom.generate_latest(self.registry), prom.CONTENT_TYPE_LATEST
