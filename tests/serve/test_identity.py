"""Which model answers: /v1/info's step and weights_sha256 (serve.identity), the same for the same weights whatever
file holds them, different for any other weights; the step our checkpoint or an official g_<steps> name records."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from hifigan.checkpoints.contents import load_generator
from hifigan.checkpoints.export_official import export_official
from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.inference.vocoder import Vocoder
from hifigan.serve.app_state import ServeState
from hifigan.serve.identity import ModelIdentity, model_identity, recorded_step, weights_sha256
from hifigan.serve.limits import ServeOptions
from hifigan.serve.monitoring import Metrics
from hifigan.serve.routes import build_app
from tests.support.serve import metric
from tests.support.tiny import tiny_config


def _generator(seed: int = 0) -> torch.nn.Module:
    from hifigan.models import Generator

    torch.manual_seed(seed)
    return Generator(tiny_config())


def test_the_same_weights_hash_the_same_from_every_file_and_say_their_step(tmp_path):
    """Our checkpoint at step 1234, its official export (g_00001234, the official layout's keys and config.json
    beside) and a bare state dict load the same weights: one hash. The step: ours from inside, the official file's
    from its name, the bare file none."""
    cfg, generator = tiny_config(), _generator()
    ours = tmp_path / "latest.pt"
    write_checkpoint(ours, generator_payload(generator.state_dict(), cfg, step=1234))
    with pytest.warns(UserWarning, match="the official code cannot load it"):  # 16 mel bins: ours can
        (official,) = [p for p in export_official(ours, tmp_path / "official") if p.name.startswith("g_")]
    bare = tmp_path / "bare.pt"
    torch.save(generator.state_dict(), bare)
    identities = {path.name: model_identity(load_generator(path, cfg)[0], path) for path in (ours, official, bare)}
    expected = weights_sha256(generator)
    assert identities == {"latest.pt": ModelIdentity(1234, expected), "g_00001234": ModelIdentity(1234, expected),
                          "bare.pt": ModelIdentity(None, expected)}
    write_checkpoint(ours, generator_payload(generator.state_dict(), cfg))  # a checkpoint without a step
    assert recorded_step(ours) is None
    assert recorded_step(None, "g_02500000") == 2500000  # a pretrained model's official file name


def test_any_other_weights_hash_otherwise():
    """One weight moved by one float32 ulp, or another seed's weights, change the hash; the hash is the weights'
    alone, not the module's identity (a second module with the same weights hashes the same)."""
    generator = _generator()
    reference = weights_sha256(generator)
    assert weights_sha256(_generator()) == reference
    assert weights_sha256(_generator(seed=1)) != reference
    name, tensor = next((n, t) for n, t in generator.state_dict().items() if t.is_floating_point())
    with torch.no_grad():
        tensor.view(-1)[0] = torch.nextafter(tensor.view(-1)[0], torch.tensor(float("inf")))
    assert weights_sha256(generator) != reference, name


def test_info_names_the_step_and_the_weights():
    """/v1/info says them after `model`; a server built from a Vocoder alone (no identity given) says null."""
    generator, cfg = _generator(), tiny_config()
    identity = model_identity(generator, None, "g_00000042")
    vocoder = Vocoder(generator, cfg)
    options = ServeOptions()
    info = ServeState("tiny", options, Metrics(options.max_batch), vocoder=vocoder, identity=identity).info()
    assert list(info)[:3] == ["model", "step", "weights_sha256"]
    assert (info["step"], info["weights_sha256"]) == (42, identity.weights_sha256)
    assert len(identity.weights_sha256) == 64 and int(identity.weights_sha256, 16) >= 0
    bare = ServeState("tiny", options, Metrics(options.max_batch), vocoder=vocoder).info()
    assert (bare["step"], bare["weights_sha256"]) == (None, None)


def test_metrics_name_the_model_and_the_process():
    """hifigan_model_info carries /v1/info's model, step and weights_sha256 as labels (one series a replica, which a
    fleet's dashboard groups by), and the page has the process's memory and file descriptors, which the server's own
    registry lacked (--max-connections is to stay below process_max_fds)."""
    generator, cfg = _generator(), tiny_config()
    identity = model_identity(generator, None, "g_00000042")
    app = build_app(Vocoder(generator, cfg), "g_00000042", ServeOptions(), identity=identity)
    page = app.state.serve.metrics.text()[0].decode()
    assert metric(page, f'hifigan_model_info{{model="g_00000042",step="42",weights_sha256="{identity.weights_sha256}"}}'
                  ) == 1
    resident = int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) * 1024
    assert metric(page, "process_resident_memory_bytes") == pytest.approx(resident, rel=0.2)
    assert 3 <= metric(page, "process_open_fds") < metric(page, "process_max_fds")
    bare = build_app(Vocoder(generator, cfg), "tiny", ServeOptions()).state.serve.metrics.text()[0].decode()
    assert metric(bare, 'hifigan_model_info{model="tiny",step="",weights_sha256=""}') == 1
