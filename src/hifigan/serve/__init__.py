"""`hifigan serve`: a vocoding server (API v1: whole mels over HTTP, mel frames over a WebSocket) whose one scheduler
gathers concurrent requests and stream windows into batched forward passes, each output exactly its own.

Modules: limits.py (`ServeOptions`, batching and limits), codec.py (.npy in; WAV, PCM and float out; `RequestError`),
scheduler.py (the batching worker thread), monitoring.py (Prometheus), app_state.py (`ServeState`: what the routes
and streams share), routes.py (the Starlette app), streams.py (the WebSocket stream), openapi.py (the API's
description), server.py (uvicorn, graceful shutdown), client.py (the Python client). Only limits.py and codec.py
import without the 'serve' extra.
"""
