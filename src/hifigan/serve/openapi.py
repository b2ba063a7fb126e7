"""The OpenAPI 3.1 description of API v1 that the server serves at /openapi.json (written out: the bodies are .npy
and audio bytes, which no schema generator infers), with the running model's facts filled in."""

from __future__ import annotations

from hifigan.melconv.model import ModelMel
from hifigan.serve.codec import STREAM_FORMATS, VOCODE_FORMATS, mel_shapes, stream_closes

ERROR = {"description": "bad input or a refused request", "content": {"application/json": {"schema": {
    "type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}}}}


def health(description: str, *statuses: str) -> dict:
    """A /readyz (/healthz) or /livez answer: {"status": one of `statuses`}; with "failed" (the batcher stopped), its
    "error"."""
    properties, required = {"status": {"enum": list(statuses)}}, ["status"]
    if "failed" in statuses:
        properties["error"] = {"type": "string", "description": "why the batcher stopped (status failed)"}
        required += ["error"] if statuses == ("failed",) else []
    return {"description": description, "content": {"application/json": {"schema": {
        "type": "object", "properties": properties, "required": required}}}}


def readiness(what: str) -> dict:
    """/readyz's path item (and /healthz's, the same answers under the name it had before /readyz)."""
    return {"get": {"summary": f"{what}: 200 while it takes work; 503 while the model loads or the server shuts down, "
                               "and once its batcher stopped",
                    "responses": {"200": health("ready", "ok"),
                                  "503": health("loading, shutting down, or the batcher stopped", "loading",
                                                "draining", "failed")}}}


def openapi(info: dict, model_mel: ModelMel) -> dict:
    """The document for a server whose /v1/info is `info`, of a model that takes `model_mel`."""
    mel = f"float32 {mel_shapes(info['num_mels'])}, {model_mel.named()}, 1 <= T <= {info['max_frames']}"
    return {
        "openapi": "3.1.0",
        "info": {"title": "hifigan serve", "version": "1", "description": (
            f"HiFi-GAN vocoding of {info['model']} at {info['sampling_rate']} Hz, hop {info['hop_size']}. Requests "
            "and stream windows are batched together; each output equals vocoding it alone (bit for bit where "
            "/v1/info says batch_invariant). Errors are JSON "
            '{"error": "..."}.')},
        "paths": {
            "/livez": {"get": {"summary": "liveness: 200 as soon as the server listens, whatever it is doing; 503 "
                                          "once its batcher stopped (restart it)",
                               "responses": {"200": health("alive", "loading", "ok", "draining"),
                                             "503": health("the batcher stopped", "failed")}}},
            "/readyz": readiness("readiness"),
            "/healthz": readiness("readiness, the same as /readyz (its name before /readyz)"),
            "/v1/info": {"get": {"summary": "the model and the server's limits", "responses": {"200": {
                "description": "model name, step (the training step its file records, or null), weights_sha256 "
                "(sha256 of the generator's weights as loaded: the same weights give the same hash from any file), "
                "sampling_rate, num_mels, hop_size, mel_convention, mel (the model's mel "
                "as hifigan configs names it: convention and floor, normalisation by mel_stats, centred frames and "
                "the epsilon under |X| where they differ from the official STFT), lookahead_frames, "
                "latency_ms, backend, batch_invariant (true: every float32 answer is bit for bit its mel alone, "
                "whatever shared its passes), device, precision, shape_buckets (true: passes padded to a few shapes, "
                "hifigan serve --shape-buckets) and the limits",
                "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/v1/vocode": {"post": {
                "summary": "vocode one mel",
                "parameters": [{"name": "format", "in": "query", "required": False, "schema": {
                    "type": "string", "enum": list(VOCODE_FORMATS), "default": VOCODE_FORMATS[0]},
                    "description": "wav: 16-bit PCM WAV, as hifigan vocode writes; f32/f64: raw little-endian floats"}],
                "requestBody": {"required": True, "description": f"the bytes of a .npy file: {mel} (float64 and "
                                "float16 are cast to float32, as hifigan vocode reads a file)",
                                "content": {kind: {"schema": {"type": "string", "format": "binary"}}
                                            for kind in ("application/x-npy", "application/octet-stream")}},
                "responses": {"200": {"description": "the audio", "content": {
                    "audio/wav": {"schema": {"type": "string", "format": "binary"}},
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                    "400": ERROR, "408": ERROR, "413": ERROR, "415": ERROR,
                    "500": {**ERROR, "description": "the model failed on this mel (vocoding failed: ...)"},
                    "503": ERROR}}},
            "/v1/stream": {"get": {
                "summary": "WebSocket: stream mel frames in, audio out",
                "description": (
                    f"Upgrade to a WebSocket. Send binary messages, each a .npy of float32 "
                    f"{mel_shapes(info['num_mels'], 'n')} (n >= 1), then the text message 'end'. The server sends "
                    "binary chunks of little-endian audio "
                    f"(format=pcm16: int16, the default; f32; f64) as soon as {info['lookahead_frames']} later "
                    "frames have arrived, then closes with 1000. Their concatenation is the one-shot output. "
                    f'Otherwise, a text {{"error": "..."}} and a close: {stream_closes()}.'),
                "parameters": [{"name": "format", "in": "query", "required": False, "schema": {
                    "type": "string", "enum": list(STREAM_FORMATS), "default": STREAM_FORMATS[0]}}],
                "responses": {"101": {"description": "switching protocols"},
                              "426": {**ERROR, "description": "a GET without the WebSocket upgrade"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {
                "description": "the text exposition format"}}}},
        },
    }
