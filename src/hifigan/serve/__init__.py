"""`hifigan serve`: a vocoding server (API v1: whole mels over HTTP, mel frames over a WebSocket) whose one scheduler
gathers concurrent requests and stream windows into batched forward passes, each output exactly its own.

Modules: options.py (`ServeOptions`, the limits), codec.py (.npy in; WAV, PCM and float out; `RequestError`),
scheduler.py (the batching worker thread), metrics.py (Prometheus), app.py (the Starlette routes), streams.py (the
WebSocket stream), openapi.py (the API's description), server.py (uvicorn, graceful shutdown), client.py (the Python
client). Only options.py and codec.py import without the 'serve' extra.
"""
