"""The backend and precision names and the chunking defaults, in one place and without importing torch (the CLI
builds its choices, defaults and help from them)."""

BACKENDS = (
    "auto", "eager", "fused", "fused-split", "invariant", "jit", "onnx", "onnx-split", "tiled", "tiled-split",
    "cuda-graph", "cuda-compiled",
)
BENCH_BACKENDS = BACKENDS[1:]  # `hifigan bench` times each concrete backend; `auto` is one of them
CPU_ONLY = ("fused-split", "invariant", "jit", "onnx", "onnx-split", "tiled", "tiled-split")
CUDA_ONLY = ("cuda-graph", "cuda-compiled")
BATCH_INVARIANT = ("invariant",)  # float32 output bit for bit the same however the input is batched, streamed or cut
# The backends that run in fp16/bf16 (the others: float32 only).
HALF_BACKENDS = ("eager", "fused", "cuda-graph", "cuda-compiled")
PRECISION_DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}  # --precision name -> torch dtype
SHAPE_BUCKETS = {"auto": None, "on": True, "off": False}  # --shape-buckets -> Vocoder(shape_buckets=...)


def device_backends(device_type: str) -> tuple[str, ...]:
    """The concrete backends that run on a device type ("cpu", "cuda", ...): `hifigan bench`'s default there."""
    excluded = CUDA_ONLY if device_type == "cpu" else CPU_ONLY if device_type == "cuda" else (*CPU_ONLY, *CUDA_ONLY)
    return tuple(b for b in BENCH_BACKENDS if b not in excluded)


def bench_entry(entry: str) -> tuple[str, str]:
    """`hifigan bench`'s "backend[:precision]" (fused, fused:bf16) -> (backend, precision); ValueError names what is
    wrong (an unknown backend or precision, or a half precision on a backend that runs float32 only)."""
    backend, _, precision = entry.partition(":")
    precision = precision or "fp32"
    if backend not in BENCH_BACKENDS:
        raise ValueError(f"{entry}: unknown backend (choose from {', '.join(BENCH_BACKENDS)})")
    if precision not in PRECISION_DTYPES:
        raise ValueError(f"{entry}: unknown precision (choose from {', '.join(PRECISION_DTYPES)})")
    if precision != "fp32" and backend not in HALF_BACKENDS:
        raise ValueError(f"{entry}: {backend} runs fp32 only ({precision} runs on {', '.join(HALF_BACKENDS)})")
    return backend, precision


# `hifigan vocode` switches to chunked processing above this many frames (~46 s at 22050 Hz / hop 256),
# keeping peak memory bounded by the chunk size rather than the input length.
AUTO_CHUNK_FRAMES = 4000
DEFAULT_CHUNK_FRAMES = 500
