"""`hifigan serve`: a vocoding server (API v1: whole mels over HTTP, mel frames over a WebSocket) whose one scheduler
gathers concurrent requests and stream windows into batched forward passes, each output exactly its own.

One idea per module; docs/design.md's package layout says what each one owns (a test keeps that list whole). Where to
start reading: routes.py (`build_app`), vocoding.py and streams.py (the two work routes), scheduler.py (the batching
worker thread), server.py (uvicorn, graceful shutdown), client.py (the Python client). Only limits.py and codec.py
import without the 'serve' extra.
"""
