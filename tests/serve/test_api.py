"""API v1 against the real server on loopback with real clients (httpx, websockets): the answers of /v1/vocode and
/v1/stream are sample for sample what `hifigan vocode` writes; /healthz, /v1/info, /openapi.json, /metrics."""

from __future__ import annotations

import asyncio
import re
import socket

import httpx
import numpy as np
import pytest
import soundfile as sf
from websockets.asyncio.client import connect

from hifigan.cli import main
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.serve.app_state import ServeState
from hifigan.serve.client import AsyncClient, Client
from hifigan.serve.codec import npy_bytes
from hifigan.serve.limits import ServeOptions
from hifigan.serve.monitoring import Metrics
from tests.support.serve import assert_same_int16, metric, random_mels, running_server, split
from tests.support.tiny import tiny_config

LENGTHS = [1, 2, 9, 40, 131]


@pytest.fixture(scope="module")
def served(tiny_checkpoint):
    vocoder = Vocoder.from_checkpoint(tiny_checkpoint)  # as `hifigan vocode -c` builds it: backend auto, float32
    with running_server(vocoder, ServeOptions(max_batch=8, max_batch_delay_ms=10)) as running:
        yield running, vocoder


@pytest.fixture(scope="module")
def vocoded(tmp_path_factory, tiny_checkpoint):
    """Mels of LENGTHS and the int16 samples `hifigan vocode` writes for them."""
    work = tmp_path_factory.mktemp("vocode")
    mels = random_mels(np.random.default_rng(0), 16, LENGTHS)
    paths = []
    for i, mel in enumerate(mels):
        np.save(work / f"m{i}.npy", mel)
        paths.append(str(work / f"m{i}.npy"))
    assert main(["vocode", "-c", str(tiny_checkpoint), "-o", str(work / "out"), *paths]) == 0
    return mels, [sf.read(work / "out" / f"m{i}.wav", dtype="int16")[0] for i in range(len(mels))]


def test_info_gives_its_milliseconds_to_a_tenth_as_bench_does():
    """At 22050 Hz a hop of 16 is 0.7256... ms: /v1/info's latency_ms is rounded as bench's stream figures are, not
    the float's 16 digits; the setting it echoes (max_batch_delay_ms) is as given."""
    config = tiny_config(sampling_rate=22050)
    vocoder = Vocoder(Generator(config), config)
    options = ServeOptions(max_batch_delay_ms=2.5)
    info = ServeState("t", options, Metrics(options.max_batch), vocoder=vocoder).info()
    exact = 1000 * vocoder.receptive_field.right * 16 / 22050
    assert exact != round(exact, 1) and info["latency_ms"] == round(exact, 1)
    assert info["max_batch_delay_ms"] == 2.5


def test_health_info_and_openapi(served):
    running, vocoder = served
    with httpx.Client(base_url=running.url) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        info = http.get("/v1/info").json()
        assert Client(running.url).info() == info  # the Python client's call gives the same
        assert {k: info[k] for k in ("model", "sampling_rate", "num_mels", "hop_size", "mel_convention",
                                     "lookahead_frames", "backend", "device", "precision")} == {
            "model": "tiny", "sampling_rate": 8000, "num_mels": 16, "hop_size": 16, "mel_convention": "official",
            "lookahead_frames": vocoder.receptive_field.right, "backend": vocoder.backend, "device": "cpu",
            "precision": "fp32"}
        assert info["batch_invariant"] is False  # backend auto: float32 answers to an ulp, not bit for bit
        # the limits: this server's batching, and docs/serving.md's defaults for the rest
        assert {k: info[k] for k in ("max_batch", "max_batch_delay_ms", "max_frames", "max_streams",
                                     "max_message_bytes")} == {"max_batch": 8, "max_batch_delay_ms": 10,
                                                               "max_frames": 4000, "max_streams": 64,
                                                               "max_message_bytes": 4 * 1024 * 1024}
        assert info["latency_ms"] == round(1000 * vocoder.receptive_field.right * 16 / 8000, 1)  # frames_ms's
        spec = http.get("/openapi.json").json()
        assert spec["openapi"].startswith("3.") and set(spec["paths"]) == {
            "/livez", "/readyz", "/healthz", "/v1/info", "/v1/vocode", "/v1/stream", "/metrics"}
        said = {(path, code): answer["content"]["application/json"]["schema"]["properties"]["status"]["enum"]
                for path in ("/livez", "/readyz", "/healthz")
                for code, answer in spec["paths"][path]["get"]["responses"].items()}
        assert said == {("/livez", "200"): ["loading", "ok", "draining"], ("/livez", "503"): ["failed"],
                        ("/readyz", "200"): ["ok"], ("/readyz", "503"): ["loading", "draining", "failed"],
                        ("/healthz", "200"): ["ok"], ("/healthz", "503"): ["loading", "draining", "failed"]}
        # test_shutdown, test_loading and test_batcher_failure see them
        assert http.get("/livez").json() == {"status": "ok"}
        # every close code the server ends a stream with (tests/serve/test_stream_*.py and test_query see each)
        closes = re.findall(r"\b(?:10\d\d|4[1-9]\d\d)\b", spec["paths"]["/v1/stream"]["get"]["description"])
        assert sorted(set(closes)) == ["1000", "1009", "1012", "4400", "4408", "4413", "4429", "4500", "4503"]
        # what the document offers is what the server does: every listed format answers, the default is the one said
        vocode = spec["paths"]["/v1/vocode"]["post"]
        listed = vocode["parameters"][0]["schema"]
        assert (listed["enum"], listed["default"]) == (["wav", "f32", "f64"], "wav")
        assert set(vocode["responses"]) == {"200", "400", "408", "413", "415", "500", "503"}
        body, headers = npy_bytes(np.zeros((16, 3), np.float32) - 5), {"Content-Type": "application/x-npy"}
        for fmt in listed["enum"]:
            assert http.post(f"/v1/vocode?format={fmt}", content=body, headers=headers).status_code == 200, fmt
        answer = http.post("/v1/vocode", content=body, headers=headers)
        assert (answer.headers["content-type"], answer.headers["x-sampling-rate"]) == ("audio/wav", "8000")
        octets = http.post("/v1/vocode", content=body, headers={"Content-Type": "application/octet-stream"})
        assert octets.status_code == 200 and octets.content == answer.content  # the other type the docs accept
        assert http.post("/v1/vocode?format=pcm16", content=body, headers=headers).status_code == 400
        stream = spec["paths"]["/v1/stream"]["get"]["parameters"][0]["schema"]
        assert (stream["enum"], stream["default"]) == (["pcm16", "f32", "f64"], "pcm16")
        missing = http.get("/v2/nothing")
        assert missing.status_code == 404 and missing.json() == {"error": (  # the routes: /openapi.json's paths
            "Not Found: /v2/nothing (the routes are /livez, /readyz, /healthz, /v1/info, /v1/vocode, /v1/stream, "
            "/metrics, /openapi.json)")}
        scanned = http.get("/" + "x" * 500).json()["error"]  # a scanner's long path is quoted cut short
        assert scanned.startswith("Not Found: /" + "x" * 99 + "... (the routes are ")
        wrong = http.get("/v1/vocode")
        assert wrong.status_code == 405 and wrong.json() == {"error": "Method Not Allowed: GET /v1/vocode (it takes "
                                                                      "POST)"}
        assert wrong.headers["allow"] == "POST"  # RFC 9110: a 405 names the methods the resource takes
        assert set(http.delete("/healthz").headers["allow"].split(", ")) == {"GET", "HEAD"}


def test_vocode_is_what_hifigan_vocode_writes(served, vocoded):
    running, vocoder = served
    mels, expected = vocoded
    client = Client(running.url)
    for mel, wav in zip(mels, expected):
        got = client.vocode(mel)
        assert got.dtype == np.int16 and got.shape == (mel.shape[1] * 16,)
        assert np.array_equal(got, wav)
        raw = client.vocode(mel, "f32")
        assert raw.dtype == np.float32 and np.array_equal(raw, vocoder(mel).numpy())
    with httpx.Client(base_url=running.url) as http:  # a whole WAV file at the model's rate, as curl gets it
        response = http.post("/v1/vocode", content=npy_bytes(mels[2]), headers={"Content-Type": "application/x-npy"})
        assert response.headers["content-type"] == "audio/wav"
        info = sf.info(__import__("io").BytesIO(response.content))
        assert (info.samplerate, info.subtype, info.frames) == (8000, "PCM_16", 9 * 16)


def test_concurrent_requests_are_what_hifigan_vocode_writes(served, vocoded):
    """The same mels at once: batched together, each answer still its own file's samples."""
    running, _ = served
    mels, expected = vocoded

    async def go() -> list[np.ndarray]:
        async with AsyncClient(running.url) as client:
            return await asyncio.gather(*(client.vocode(m) for m in mels * 2))

    for got, wav in zip(asyncio.run(go()), expected * 2):
        assert_same_int16(got, wav)


def test_stream_with_random_message_sizes_is_the_one_shot_audio(served, vocoded):
    running, _ = served
    mels, expected = vocoded
    rng = np.random.default_rng(1)
    client = Client(running.url)
    for mel, wav in zip(mels, expected):
        for sizes in (list(rng.integers(1, 12, size=40)), [1] * mel.shape[1], [mel.shape[1]]):
            result = client.stream(split(mel, [int(s) for s in sizes]))
            assert_same_int16(result.audio, wav, sizes)
            assert all(len(c) > 0 and len(c) % 16 == 0 for c in result.chunks)


def test_an_empty_stream_is_no_samples_of_its_formats_dtype(served, vocoded):
    """A stream closed with no mel sent is complete (1000) with no audio, of the dtype a non-empty one of its format
    has (it was float64 whatever the format)."""
    running, _ = served
    mel = vocoded[0][1]
    client = Client(running.url)
    for fmt, dtype in (("pcm16", np.int16), ("f32", np.float32), ("f64", np.float64)):
        empty, full = client.stream([], fmt).audio, client.stream([mel], fmt).audio
        assert (empty.dtype, empty.shape, full.dtype) == (np.dtype(dtype), (0,), np.dtype(dtype)), fmt


def test_stream_audio_leaves_as_soon_as_the_look_ahead_is_in(served, vocoded):
    """A frame's audio is sent once `right` later frames have arrived, not later; the rest after 'end'."""
    running, vocoder = served
    mel, right = vocoded[0][-1], vocoder.receptive_field.right

    async def go() -> list[int]:
        async with connect(running.url.replace("http", "ws") + "/v1/stream") as ws:
            got = []
            for a, b in ((0, right + 1), (right + 1, right + 4), (right + 4, right + 5)):
                await ws.send(npy_bytes(mel[:, a:b]))
                got.append(len(await ws.recv()) // 2 // 16)  # int16 samples -> frames
            await ws.send("end")
            got.append(len(await ws.recv()) // 2 // 16)
            await ws.wait_closed()
            assert ws.close_code == 1000
            return got

    assert asyncio.run(go()) == [1, 3, 1, right]


def test_batch_reports_become_the_metrics_they_name():
    """A batch of 3 mels that waited 0.1, 0.2 and 0.3 s, took 0.5 s, 0.2 of them on the worker's CPU."""
    from hifigan.serve.monitoring import Metrics
    from hifigan.serve.scheduler import BatchDone

    metrics = Metrics(4)
    metrics.on_batch(BatchDone((0.1, 0.2, 0.3), 0.5, 0.2))
    page = metrics.text()[0].decode()
    assert metric(page, "hifigan_batch_size_sum") == 3 and metric(page, "hifigan_batch_size_count") == 1
    assert metric(page, "hifigan_batch_seconds_sum") == 0.5 and metric(page, "hifigan_batch_cpu_seconds_total") == 0.2
    assert metric(page, "hifigan_queue_wait_seconds_sum") == pytest.approx(0.6, abs=1e-12)
    assert metric(page, "hifigan_queue_wait_seconds_count") == 3


def test_metrics_count_requests_streams_and_audio(served, vocoded):
    running, _ = served
    mels, _ = vocoded
    client = Client(running.url)
    client.vocode(mels[0])  # a labelled counter is on the page from its first request on (not after other tests')
    client.stream(split(mels[1], [1, 1]))
    httpx.post(f"{running.url}/v1/vocode", content=b"not npy", headers={"Content-Type": "application/x-npy"})  # 400
    page = httpx.get(f"{running.url}/metrics").text
    names = {"errors": 'hifigan_errors_total{route="POST /v1/vocode"}',
             "first_post": 'hifigan_time_to_first_audio_seconds_count{route="POST /v1/vocode"}',
             "first_ws": 'hifigan_time_to_first_audio_seconds_count{route="WS /v1/stream"}'}
    counted = {key: metric(page, name) for key, name in names.items()}
    before = metric(page, 'hifigan_requests_total{route="POST /v1/vocode",status="200"}')
    seconds = metric(page, "hifigan_audio_seconds_total")
    client.vocode(mels[3])
    client.stream(split(mels[3], [5] * 8))  # 8 messages, several windows: one first audio
    page = httpx.get(f"{running.url}/metrics").text
    assert metric(page, 'hifigan_requests_total{route="POST /v1/vocode",status="200"}') == before + 1
    assert metric(page, "hifigan_audio_seconds_total") == pytest.approx(seconds + 2 * 40 * 16 / 8000)
    # one request and one stream: one first audio each; no error among them
    assert {key: metric(page, name) for key, name in names.items()} == {
        "errors": counted["errors"], "first_post": counted["first_post"] + 1, "first_ws": counted["first_ws"] + 1}
    assert counted["errors"] >= 1  # the 400 above
    buckets = [line.split('le="')[1].split('"')[0] for line in page.splitlines()
               if line.startswith("hifigan_batch_size_bucket")]
    assert buckets == ["1.0", "2.0", "4.0", "8.0", "+Inf"]  # --max-batch 8: powers of two up to it
    assert metric(page, 'hifigan_requests_total{route="WS /v1/stream",status="200"}') >= 1
    for name in ("hifigan_active_streams", "hifigan_queue_depth", "hifigan_batch_size_count",
                 "hifigan_batch_seconds_count", "hifigan_queue_wait_seconds_count", "hifigan_batch_cpu_seconds_total",
                 'hifigan_batch_seconds_bucket{le="0.001"}',
                 'hifigan_time_to_first_audio_seconds_count{route="WS /v1/stream"}',
                 'hifigan_request_latency_seconds_count{route="POST /v1/vocode"}'):
        metric(page, name)
    assert metric(page, "hifigan_active_streams") == 0


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--host", "256.1.1.1", "--host 256.1.1.1: cannot resolve it"),
])
def test_bad_serve_options_fail_in_one_line_before_loading(tmp_path, capsys, flag, value, message):
    assert main(["serve", "-c", str(tmp_path / "absent.pt"), "--port", "0", flag, value]) == 2
    assert capsys.readouterr().err.startswith(f"hifigan serve: error: {message}")


def test_a_used_port_is_named_before_loading(tmp_path, capsys):
    """A port another server holds is named with the option to change, before the (here absent) model is read."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "-c", str(tmp_path / "absent.pt"), "--port", str(port)]) == 2
    assert capsys.readouterr().err == (f"hifigan serve: error: 127.0.0.1:{port}: port already in use (another "
                                       "server?); choose another --port\n")


def test_serve_defaults_are_the_documented_ones():
    """docs/serving.md's table and text, written out: where it listens (and so where the clients look unless told)
    and every limit."""
    from hifigan.cli import build_parser
    from hifigan.cli.serving import DEFAULTS
    from hifigan.serve.client import AsyncClient, Client
    from hifigan.serve.limits import fitted

    args = build_parser().parse_args(["serve", "-c", "g.pt"])
    assert (args.host, args.port, args.threads) == ("127.0.0.1", 8000, None)
    assert Client().url == AsyncClient().url == "http://127.0.0.1:8000"
    assert (args.max_batch, args.max_batch_delay_ms, args.max_streams, args.idle_timeout, args.stream_backlog,
            args.drain_timeout, args.body_timeout, args.header_timeout, args.max_connections, args.stream_timeout,
            args.send_timeout) == (16, 5, 64, 30, 1000, 60, 60, 10, 256, 120, 30)
    # Not given: each follows the other where given (serve.limits.fitted); neither given, 80 mels: the defaults.
    assert (args.max_frames, args.max_message_bytes) == (None, None)
    assert (DEFAULTS.max_frames, DEFAULTS.max_message_bytes) == (4000, 4 << 20)
    assert fitted(DEFAULTS, 80, False, False) == DEFAULTS


def test_info_says_the_mel_is_normalised():
    """A model trained on mel_stats-normalised log10 mels (pwg-24k's mel, centred frames without an epsilon under
    |X|, with its stats.h5) takes (log10 M - mean) / std: /v1/info's mel and /openapi.json say so in the words of
    `hifigan configs` and the export's facts, where mel_convention alone ('log10', kept as it was) names a mel it
    does not take and /openapi.json said '(log10 (floor 1e-10) normalised by mel_stats mel)'."""
    from hifigan.config import load_config
    from hifigan.models import Generator
    from tests.support.tiny import tiny_config

    pwg = load_config("pwg-24k")
    cfg = tiny_config(mel_convention=pwg.mel_convention, mel_framing=pwg.mel_framing,
                      mel_magnitude_eps=pwg.mel_magnitude_eps, mel_stats={"mean": [-3.0] * 16, "std": [1.5] * 16})
    label = "log10 (floor 1e-10) normalised by mel_stats, centred frames, |X| without epsilon"
    with running_server(Vocoder(Generator(cfg), cfg)) as running, httpx.Client(base_url=running.url) as http:
        info = http.get("/v1/info").json()
        assert (info["mel_convention"], info["mel"]) == ("log10", label)
        body = http.get("/openapi.json").json()["paths"]["/v1/vocode"]["post"]["requestBody"]["description"]
        assert f"float32 [16, T] or [1, 16, T], the model's mel ({label}), 1 <= T <= 4000" in body
