"""The official int16 PCM scale (int16 samples / 32768 -> [-1, 1)) and the hint for int16 values given as float
samples, written once for the audio reader and writer, the front-end's check, the metrics and the export check;
imports neither soundfile nor torch, so the front-end and the metrics do not load an audio library for it."""

from __future__ import annotations

MAX_WAV_VALUE = 32768.0  # official int16 scale: int16 samples / 32768 -> [-1, 1)
INT16_HINT = f"int16 sample values? divide by {MAX_WAV_VALUE:g}"  # said where int16 values come as floats
