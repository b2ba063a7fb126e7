"""`hifigan export`: ONNX and TorchScript files that reproduce the eager generator at any length and batch."""

import numpy as np
import onnxruntime as ort
import pytest
import torch

from hifigan.cli import main
from hifigan.config import load_config
from hifigan.errors import HifiganError
from hifigan.inference.export import export_generator, torchscript_module
from hifigan.models import Generator
from tests.support.official_reference import RefGenerator
from tests.support.tiny import MELS_80, odd_rate_config, tiny_config

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")

TOL = 1e-4
LENGTHS = (1, 7, 50, 333)


def _eager(ckpt_generator_state, cfg):
    g = Generator(cfg)
    g.load_state_dict(ckpt_generator_state)
    return g.eval().remove_weight_norm()


def _check_files(onnx_path, ts_path, eager, num_mels, lengths=LENGTHS, batched=(3, 19)):
    """Both files against eager at batch 1 of each length, and at `batched` (batch, frames)."""
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    scripted = torch.jit.load(str(ts_path))
    for batch, frames in [(1, n) for n in lengths] + [batched]:
        mel = torch.randn(batch, num_mels, frames) - 3
        with torch.inference_mode():
            expected = eager(mel)
            got_ts = scripted(mel)
        got_onnx = session.run(None, {"mel": mel.numpy()})[0]
        assert expected.shape == (batch, 1, frames * eager.layers().hop)  # the generator keeps its channel axis
        expected = expected[:, 0]  # the files drop it: [batch, samples], as Vocoder returns a batch
        assert got_onnx.shape == tuple(got_ts.shape) == (batch, frames * eager.layers().hop)
        assert np.abs(got_onnx - expected.numpy()).max() < TOL
        assert (got_ts - expected).abs().max() < TOL


def test_export_own_checkpoint_both_formats(tmp_path, tiny_checkpoint, tiny_cfg):
    onnx_path, ts_path = tmp_path / "g.onnx", tmp_path / "g.ts"
    assert main(["export", "--checkpoint", str(tiny_checkpoint), "--format", "onnx", "-o", str(onnx_path)]) == 0
    assert main(["export", "-c", str(tiny_checkpoint), "--out", str(ts_path)]) == 0  # the format from the name
    state = torch.load(tiny_checkpoint, weights_only=True)["generator"]
    _check_files(onnx_path, ts_path, _eager(state, tiny_cfg), tiny_cfg.num_mels)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.onnx", "g.ts"]  # no temporary files left
    import onnx

    model = onnx.load(onnx_path)
    assert {o.domain: o.version for o in model.opset_import}[""] == 17  # docs/export.md's opset
    dims = [[d.dim_param or d.dim_value for d in io.type.tensor_type.shape.dim]
            for io in (model.graph.input[0], model.graph.output[0])]
    assert dims == [["batch", tiny_cfg.num_mels, "frames"], ["batch", "samples"]]  # any batch and length, declared


def test_export_official_checkpoint_resblock1(tmp_path):
    cfg = tiny_config("1", **MELS_80)
    torch.manual_seed(3)
    ckpt = tmp_path / "g_00000001"
    torch.save({"generator": RefGenerator(cfg).state_dict()}, ckpt)
    cfg_json = tmp_path / "cfg.json"
    cfg_json.write_text(__import__("json").dumps(cfg.to_dict()))
    for fmt, name in (("onnx", "g.onnx"), ("torchscript", "g.pt")):
        assert main(["export", "-c", str(ckpt), "--config", str(cfg_json), "--format", fmt, "-o", str(tmp_path / name)]
                    ) == 0
    from hifigan.checkpoints.contents import load_generator

    eager = load_generator(ckpt, cfg_json)[0].eval().remove_weight_norm()
    _check_files(tmp_path / "g.onnx", tmp_path / "g.pt", eager, 80)


@pytest.mark.parametrize("name", ["v1", "v3"])
def test_export_official_v1_and_v3_both_formats(tmp_path, name):
    """README's commands on official g_* files of the real configs: both files match eager (at batch 2 of 9 frames,
    not 3 of 19: a real config's frame costs ~100 tiny ones)."""
    from hifigan.checkpoints.contents import load_generator

    torch.manual_seed(0)
    ckpt = tmp_path / "g_00000001"
    torch.save({"generator": RefGenerator(load_config(name)).state_dict()}, ckpt)
    for fmt, path in (("onnx", "g.onnx"), ("torchscript", "g.pt")):
        assert main(["export", "--checkpoint", str(ckpt), "--config", name, "--format", fmt, "-o", str(tmp_path / path)]
                    ) == 0
    eager = load_generator(ckpt, name)[0].eval().remove_weight_norm()
    _check_files(tmp_path / "g.onnx", tmp_path / "g.pt", eager, 80, lengths=(1, 9), batched=(2, 9))


@pytest.mark.usefixtures("single_thread")
def test_export_keeps_odd_rates(tmp_path):
    """audiosr-48k's generator (rates [6, 5, 4, 2, 2], one stage with output padding), 32 channels wide: both files
    give frames x 480 samples at every length, as eager does."""
    cfg = odd_rate_config("h480")
    torch.manual_seed(0)
    eager = Generator(cfg).eval()
    export_generator(eager, "onnx", tmp_path / "g.onnx")
    export_generator(eager, "torchscript", tmp_path / "g.pt")
    _check_files(tmp_path / "g.onnx", tmp_path / "g.pt", eager.remove_weight_norm(), cfg.num_mels, lengths=(1, 7, 50))


def test_export_errors_leave_no_file(tmp_path, tiny_checkpoint, capsys):
    assert main(["export", "-c", str(tmp_path / "missing.pt"), "--format", "onnx", "-o", str(tmp_path / "x.onnx")]
                ) == 2
    assert "missing.pt" in capsys.readouterr().err
    (tmp_path / "adir.onnx").mkdir()
    assert main(["export", "-c", str(tiny_checkpoint), "--format", "onnx", "-o", str(tmp_path / "adir.onnx")]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir.onnx"]
    with pytest.raises(SystemExit):
        main(["export", "-c", str(tiny_checkpoint), "--format", "tflite", "-o", str(tmp_path / "x")])
    with pytest.raises(ValueError, match="format"):
        export_generator(Generator(tiny_config()), "tflite", tmp_path / "x")


def test_a_float64_generator_exports_as_float32_files(tmp_path):
    """The files are float32 whatever the generator's dtype: a float64 generator (weight norm kept) gives an ONNX
    file that ONNX Runtime loads and a TorchScript file, both matching eager on float32 mels; the caller's module
    stays float64."""
    cfg = tiny_config()
    torch.manual_seed(0)
    eager = Generator(cfg).double().eval()
    export_generator(eager, "onnx", tmp_path / "g.onnx")
    export_generator(eager, "torchscript", tmp_path / "g.pt")
    assert next(eager.parameters()).dtype == torch.float64
    mel = torch.randn(2, cfg.num_mels, 11) - 3
    with torch.inference_mode():
        expected = eager.remove_weight_norm()(mel.double())[:, 0].float()
        got_ts = torch.jit.load(str(tmp_path / "g.pt"))(mel)
    session = ort.InferenceSession(str(tmp_path / "g.onnx"), providers=["CPUExecutionProvider"])
    got_onnx = torch.from_numpy(session.run(None, {"mel": mel.numpy()})[0])
    assert got_ts.dtype == got_onnx.dtype == torch.float32
    assert (got_ts - expected).abs().max() < TOL and (got_onnx - expected).abs().max() < TOL


def test_the_jit_engine_traces_a_float64_generator_in_float64():
    """In process (the jit engine) the trace takes the weights' dtype: float64 audio equal to eager's."""
    cfg = tiny_config()
    torch.manual_seed(0)
    eager = Generator(cfg).double().eval()
    mel = torch.randn(2, cfg.num_mels, 11, dtype=torch.float64) - 3
    with torch.inference_mode():
        got, expected = torchscript_module(eager)(mel), eager.remove_weight_norm()(mel)[:, 0]
    assert got.dtype == torch.float64
    assert (got - expected).abs().max() < 1e-10


def test_a_saved_torchscript_file_keeps_its_weights_as_parameters(tmp_path):
    """The file holds the traced module, not a frozen one: its weights are parameters, so the loaded module converts
    with .double() and computes float64 audio (frozen constants would stay float32)."""
    cfg = tiny_config()
    torch.manual_seed(0)
    eager = Generator(cfg).eval()
    export_generator(eager, "torchscript", tmp_path / "g.pt")
    scripted = torch.jit.load(str(tmp_path / "g.pt"))
    assert scripted.state_dict()
    mel = torch.randn(1, cfg.num_mels, 9, dtype=torch.float64) - 3
    with torch.inference_mode():
        got, expected = scripted.double()(mel), eager.remove_weight_norm().double()(mel)[:, 0]
    assert got.dtype == torch.float64 and (got - expected).abs().max() < 1e-10


def test_torchscript_module_freezes_only_when_asked():
    """freeze=True (the in-process engine's module): weights folded in as constants, none left as parameters, the
    same audio; without it the traced module keeps its parameters (what a saved file holds)."""
    cfg = tiny_config()
    torch.manual_seed(0)
    generator = Generator(cfg)
    traced, frozen = torchscript_module(generator), torchscript_module(generator, freeze=True)
    assert list(traced.parameters()) and not list(frozen.parameters())
    mel = torch.randn(1, cfg.num_mels, 9) - 3
    with torch.inference_mode():
        assert (traced(mel) - frozen(mel)).abs().max() < TOL


def test_num_mels_is_needed_for_a_conv_pre_that_is_no_conv1d(tmp_path):
    """Only an nn.Conv1d conv_pre tells the mel bins; another module of that name is a one-line error, no file."""

    class _LinearPre(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv_pre = torch.nn.Linear(16, 16)

        def forward(self, mel: torch.Tensor) -> torch.Tensor:
            return self.conv_pre(mel.transpose(1, 2)).reshape(mel.shape[0], 1, -1)

    with pytest.raises(HifiganError, match="exporting _LinearPre needs num_mels"):
        export_generator(_LinearPre(), "torchscript", tmp_path / "g.pt")
    assert list(tmp_path.iterdir()) == []



class _Branching(torch.nn.Module):
    """No layers() (exported as itself) and a Python decision on the input length: its trace is refused."""

    def __init__(self) -> None:
        super().__init__()
        self.conv_pre = torch.nn.Conv1d(16, 16, 1)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        audio = self.conv_pre(mel).transpose(1, 2).reshape(mel.shape[0], 1, -1)
        return audio if mel.shape[-1] > 20 else -audio


def test_export_leaves_every_submodule_in_the_mode_it_found(tmp_path):
    """Exporting runs the generator in eval mode but hands the caller's module back as it was, submodule by
    submodule (one set apart included), after a written file, an in-process trace and a refused export alike."""
    cfg = tiny_config()
    generator = Generator(cfg).train()
    generator.ups[1].eval()
    before = [m.training for m in generator.modules()]
    assert True in before and False in before
    for fmt in ("onnx", "torchscript"):
        export_generator(generator, fmt, tmp_path / f"g.{fmt}", config=cfg)
        assert [m.training for m in generator.modules()] == before
    torchscript_module(generator)
    assert [m.training for m in generator.modules()] == before
    plain = torch.nn.Sequential(torch.nn.Conv1d(16, 1, 1)).train()  # no layers(): traced as itself, in eval mode
    torchscript_module(plain, num_mels=16)
    assert all(m.training for m in plain.modules())
    branching = _Branching().train()
    with pytest.raises(HifiganError, match=r"^_Branching does not trace"):
        export_generator(branching, "torchscript", tmp_path / "x.pt")
    assert all(m.training for m in branching.modules())


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize(("changes", "says"), [
    (dict(upsample_rates=[4, 8], upsample_kernel_sizes=[8, 16], hop_size=32), "num_mels 16 and hop_size 32"),
    (MELS_80, "num_mels 80 and hop_size 16"),
])
def test_a_config_that_does_not_describe_the_generator_is_refused(tmp_path, fmt, changes, says):
    """export_generator's config is what the file records of its input (hop, bins, the whole config): one of another
    hop wrote a file whose facts promised frames * 32 samples of a model giving frames * 16, and one of other bins
    ended in torch's channel error. Refused as Vocoder refuses the pair, in one line, before any file."""
    with pytest.raises(HifiganError) as e:
        export_generator(Generator(tiny_config()), fmt, tmp_path / f"g.{fmt}", config=tiny_config(**changes))
    assert str(e.value) == ("the config does not describe this generator: it takes 16 mel bins at hop 16, the config "
                            f"has {says}")
    assert list(tmp_path.iterdir()) == []
