"""A mel's dtype over HTTP and WebSocket: float32 in either byte order, and float16 and float64 cast to float32 as
`hifigan vocode` reads a file (load_mel), are vocoded as that float32 mel; the Python client casts and checks by the
same rule, refusing before it sends what the server would refuse (bad dtypes' 400s: test_errors.py's BAD_BODIES)."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from hifigan.errors import MelError
from hifigan.mel_file import load_mel
from hifigan.serve.client import Client
from hifigan.serve.codec import decode_mel
from tests.support.serve_inputs import GOOD, count, limited_server, npy, with_value


@pytest.fixture(scope="module")
def served():
    with limited_server() as served_:
        yield served_


def test_big_endian_float32_is_float32(served):
    """numpy.save of a big-endian float32 mel ('>f4', as a big-endian machine writes it) is the same values:
    served as `vocode` takes it, bit for bit, not refused as another dtype."""
    running, vocoder = served
    response = httpx.post(f"{running.url}/v1/vocode?format=f32", content=npy(GOOD.astype(">f4")),
                          headers={"Content-Type": "application/x-npy"})
    assert response.status_code == 200, response.text
    assert np.array_equal(np.frombuffer(response.content, "<f4"), vocoder(GOOD).numpy())


@pytest.mark.parametrize("dtype", ["<f8", ">f8", "<f2"])
def test_a_float64_or_float16_mel_is_read_as_vocode_reads_it(served, tmp_path, dtype):
    """numpy's default float64 (and float16, in either byte order) is taken, as `hifigan vocode` takes the file:
    cast to the float32 that load_mel reads, and vocoded as that mel, a request and a stream message alike (it was a
    400 'has dtype float64, expected float32')."""
    running, vocoder = served
    sent = (GOOD.astype(np.float64) + 1e-4 / 3).astype(dtype)  # values float32 rounds: the cast is not a no-op
    np.save(tmp_path / "mel.npy", sent)
    read = load_mel(tmp_path / "mel.npy", 16)  # what hifigan vocode vocodes for this file
    assert read.dtype == np.float32 and np.array_equal(decode_mel(npy(sent), 16, 200), read)
    response = httpx.post(f"{running.url}/v1/vocode?format=f32", content=npy(sent),
                          headers={"Content-Type": "application/x-npy"})
    assert response.status_code == 200, response.text
    assert np.array_equal(np.frombuffer(response.content, "<f4"), vocoder(read).numpy())
    client = Client(running.url)
    streamed = client.stream([npy(sent[:, :10]), npy(sent[:, 10:])], "f32").audio
    assert np.array_equal(streamed, client.stream([read[:, :10], read[:, 10:]], "f32").audio)


@pytest.mark.parametrize(("mel", "said"), [
    (GOOD.astype(np.int16), "mel has dtype int16, expected floating point"),  # was sent cast to float32, and served
    (with_value(1e39, np.float64), "mel has values beyond the float32 range"),  # was sent as inf: 'NaN or infinite'
    (with_value(np.nan), "mel contains non-finite values (NaN or inf)"),
])
def test_the_client_refuses_what_the_server_refuses_before_sending_it(served, mel, said):
    """The Python client casts a mel to float32 by the server's and vocode's rule (checked_mel_values): a mel they
    refuse is a MelError naming the problem, for a request (nothing sent) and a stream alike."""
    running, _ = served
    before = count(running.url, 'hifigan_requests_total{route="POST /v1/vocode",status="400"}')
    client = Client(running.url)
    for call in (lambda: client.vocode(mel), lambda: client.stream([mel])):
        with pytest.raises(MelError) as caught:
            call()
        assert str(caught.value) == said
    assert count(running.url, 'hifigan_requests_total{route="POST /v1/vocode",status="400"}') == before
