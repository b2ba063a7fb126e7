"""The backend and precision names and the chunking defaults, in one place and without importing torch (the CLI
builds its choices, defaults and help from them)."""

BACKENDS = ("auto", "eager", "fused", "fused-split", "jit", "onnx", "onnx-split", "tiled", "tiled-split")
BENCH_BACKENDS = BACKENDS[1:]  # `hifigan bench` times each concrete backend; `auto` is one of them
CPU_ONLY = ("fused-split", "jit", "onnx", "onnx-split", "tiled", "tiled-split")
HALF_BACKENDS = ("eager", "fused")  # the backends that run in fp16/bf16 (the others are float32 graphs or kernels)
PRECISION_DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}  # --precision name -> torch dtype

# `hifigan vocode` switches to chunked processing above this many frames (~46 s at 22050 Hz / hop 256),
# keeping peak memory bounded by the chunk size rather than the input length.
AUTO_CHUNK_FRAMES = 4000
DEFAULT_CHUNK_FRAMES = 500
