"""Exported files say what mel their model takes: the rate, hop, bins, convention, floor, framing and mel_stats, and
the whole config, in ONNX metadata_props and TorchScript extra files, read back as onnx, onnxruntime and
torch.jit.load read them."""

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.cli import main
from hifigan.inference.export_facts import INPUT_KEYS, KEYS, read_facts
from hifigan.melconv.model import ModelMel
from hifigan.models import Generator
from tests.support.tiny import tiny_config

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")

# A normalised model of another convention, floor, framing and epsilon than the official one; statistics whose
# values a decimal print would round (the file must carry them exactly).
STATS = {"mean": [float(v) for v in np.linspace(-7.3, -1.1, 16) / 3],
         "std": [float(v) for v in np.linspace(0.7, 2.9, 16) / 7]}
CFG = tiny_config(mel_convention="log10", mel_floor=1e-8, mel_framing="center", mel_magnitude_eps=0.0,
                  mel_stats=STATS)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("facts")
    torch.manual_seed(0)
    ckpt = folder / "norm.pt"
    write_checkpoint(ckpt, generator_payload(Generator(CFG).state_dict(), CFG))
    for name in ("g.onnx", "g.pt"):
        assert main(["export", "--checkpoint", str(ckpt), "-o", str(folder / name)]) == 0
    return folder / "g.onnx", folder / "g.pt"


def _check(facts: dict[str, str]) -> None:
    assert set(facts) == set(KEYS)
    assert json.loads(facts["config"]) == CFG.to_dict()  # the whole config, the statistics' values exactly
    for key in INPUT_KEYS:
        value = getattr(CFG, key)
        assert facts[key] == (value if isinstance(value, str) else json.dumps(value)), key
    assert json.loads(facts["mel_stats"]) == STATS and json.loads(facts["mel_floor"]) == 1e-8
    assert (facts["sampling_rate"], facts["hop_size"], facts["num_mels"]) == ("8000", "16", "16")
    assert facts["mel"] == ModelMel.of(CFG).label == ("log10 (floor 1e-08) normalised by mel_stats, centred frames, "
                                                      "|X| without epsilon")
    assert facts["io"] == ("input 'mel' float32 [batch, 16, frames]: the model's mel (log10 (floor 1e-08) normalised "
                           "by mel_stats, centred frames, |X| without epsilon, 8000 Hz, hop 16); output 'audio' "
                           "float32 [batch, frames * 16]")


def test_an_onnx_export_records_its_input_mel(exported):
    onnx_path, _ = exported
    _check({p.key: p.value for p in onnx.load(onnx_path).metadata_props})
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    _check(session.get_modelmeta().custom_metadata_map)
    assert read_facts(onnx_path) == session.get_modelmeta().custom_metadata_map


def test_a_torchscript_export_records_its_input_mel(exported):
    _, ts_path = exported
    extra = dict.fromkeys(KEYS, "")
    torch.jit.load(str(ts_path), _extra_files=extra)
    facts = {key: value.decode() for key, value in extra.items()}
    _check(facts)
    assert read_facts(ts_path) == facts


def test_a_statistics_file_is_stored_as_its_values(tmp_path):
    """A config whose mel_stats names a file: the export carries the values (the file does not travel with it)."""
    from hifigan.inference.export import export_generator

    stats_file = tmp_path / "stats.npy"
    np.save(stats_file, np.stack([STATS["mean"], STATS["std"]]))
    cfg = tiny_config(mel_convention="log10", mel_stats=str(stats_file))
    torch.manual_seed(0)
    export_generator(Generator(cfg).eval(), "torchscript", tmp_path / "g.pt", config=cfg)
    facts = read_facts(tmp_path / "g.pt")
    assert json.loads(facts["mel_stats"]) == json.loads(facts["config"])["mel_stats"] == STATS


@pytest.mark.parametrize(("name", "problem"), [
    ("x.onnx", "not an ONNX or TorchScript file"),
    ("ckpt.pt", "not a TorchScript file ("),  # torch.save's zip: torch's reason follows, on the same line
    ("x.zip", "not a TorchScript file ("),  # a zip of anything else
])
def test_read_facts_names_a_file_that_is_no_export(tmp_path, name, problem):
    """One line naming the file; a zip archive that is no TorchScript (a training checkpoint) too."""
    import zipfile

    from hifigan.errors import HifiganError

    path = tmp_path / name
    if name == "ckpt.pt":
        torch.save({"step": 1, "generator": {"w": torch.zeros(2)}}, path)
    elif name == "x.zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("notes.txt", "not a model")
    else:
        path.write_bytes(b"\x00not a model\xff" * 8)
    with pytest.raises(HifiganError) as info:
        read_facts(path)
    assert str(info.value).startswith(f"{path}: {problem}") and "\n" not in str(info.value), str(info.value)


@pytest.mark.parametrize("name", ["g.onnx", "g.pt"])
def test_a_file_exported_without_its_config_records_nothing_and_foreign_keys_are_not_facts(tmp_path, name):
    """export_generator without `config` writes no facts: read_facts gives {} (not the keys with empty values); an
    ONNX metadata key that is not one of KEYS is not read as a fact."""
    from hifigan.inference.export import export_generator

    cfg = tiny_config()
    torch.manual_seed(0)
    path = tmp_path / name
    export_generator(Generator(cfg).eval(), "onnx" if name.endswith(".onnx") else "torchscript", path,
                     cfg.num_mels)
    assert read_facts(path) == {}
    if name.endswith(".onnx"):
        model = onnx.load(str(path))
        onnx.helper.set_model_props(model, {"producer_note": "x", "hop_size": "16"})
        onnx.save(model, str(path))
        assert read_facts(path) == {"hop_size": "16"}


def test_a_config_gives_the_mel_bins_of_a_module_without_conv_pre(tmp_path):
    """A traced module without the HiFi-GAN generator's conv_pre takes its bins from `config` (no num_mels given)."""
    from hifigan.inference.export import export_generator

    cfg = tiny_config()
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Conv1d(cfg.num_mels, 1, 3, padding=1)).eval()
    export_generator(module, "onnx", tmp_path / "m.onnx", config=cfg)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    assert session.get_inputs()[0].shape[1] == cfg.num_mels
    assert read_facts(tmp_path / "m.onnx")["num_mels"] == str(cfg.num_mels)


def test_a_config_is_taken_by_its_file_or_name_as_vocoder_takes_it(tmp_path):
    """config='v1' or a config file's path was "AttributeError: 'str' object has no attribute 'num_mels'"; now the
    file records the config read from it, and a name that is no preset is the config's own one-line refusal."""
    from hifigan.errors import ConfigError
    from hifigan.inference.export import export_generator
    from tests.support.files import save_config_json

    cfg = tiny_config()
    torch.manual_seed(0)
    generator = Generator(cfg).eval()
    export_generator(generator, "torchscript", tmp_path / "g.pt", config=save_config_json(tmp_path / "c.json", cfg))
    assert json.loads(read_facts(tmp_path / "g.pt")["config"]) == cfg.to_dict()
    with pytest.raises(ConfigError, match="v9"):
        export_generator(generator, "torchscript", tmp_path / "h.pt", config="v9")
    assert not (tmp_path / "h.pt").exists()


@pytest.mark.parametrize(("preset", "label"), [
    ("speechbrain-16k", "official, centred frames, |X| without epsilon"),
    ("pwg-24k", "log10 (floor 1e-10), centred frames, |X| without epsilon"),
])
def test_a_presets_facts_name_its_mel_as_every_other_place(preset, label):
    """A preset whose mel_convention alone ('official', 'log10') names another mel than it takes: the model file's
    and the front-end's "mel" and "io" say the label as `hifigan configs` prints it, in ModelMel.named's wording,
    where the front-end's io said 'the mel the model takes'; mel_convention stays the config's string."""
    from hifigan.config import load_config
    from hifigan.inference.export_facts import frontend_facts, input_facts

    config = load_config(preset)
    model, front_end = input_facts(config), frontend_facts(config, 1025)
    assert model["mel"] == front_end["mel"] == ModelMel.of(config).label == label
    assert model["mel_convention"] == config.mel_convention != label
    rate, hop, bins = config.sampling_rate, config.hop_size, config.num_mels
    assert model["io"] == (f"input 'mel' float32 [batch, {bins}, frames]: the model's mel ({label}, {rate} Hz, hop "
                           f"{hop}); output 'audio' float32 [batch, frames * {hop}]")
    assert front_end["io"] == (f"input 'audio' float32 [batch, samples] in [-1, 1] at {rate} Hz, samples >= 1025; "
                               f"output 'mel' float32 [batch, {bins}, frames]: the model's mel ({label})")


def test_a_front_end_and_a_model_of_other_mels_are_refused_naming_every_difference():
    """A 44.1 kHz hop-512 front-end given with a 24 kHz hop-300 model: standalone.py named only the first fact that
    differs in sorted order (`fmax null, the model's 12000`), as if fmax alone did; it names each one, the signal's
    in export_facts' order, then the mel's label (which says its convention, floor, framing and statistics)."""
    from hifigan.inference import standalone
    from hifigan.inference.export_facts import frontend_facts, input_facts

    signal = [k for k in INPUT_KEYS if not k.startswith("mel_")]
    assert standalone.SAID_FIRST == (*signal, "mel")  # the script's own copy: it imports nothing of hifigan
    at_44k = tiny_config(sampling_rate=44100, hop_size=512, n_fft=2048, win_size=2048, num_mels=128, fmax=None,
                         upsample_rates=[16, 32], upsample_kernel_sizes=[32, 64], segment_size=4096)
    at_24k = tiny_config(sampling_rate=24000, hop_size=300, n_fft=1200, win_size=1200, num_mels=80, fmax=12000,
                         upsample_rates=[20, 15], upsample_kernel_sizes=[40, 30], segment_size=3000,
                         mel_convention="log10")
    with pytest.raises(standalone.Refused) as refused:
        standalone.check_pair("a.mel.onnx", frontend_facts(at_44k, 1537), "b.onnx", input_facts(at_24k))
    assert str(refused.value) == (
        "a.mel.onnx: computes another mel than b.onnx takes (sampling_rate 44100, the model's 24000; hop_size 512, "
        "the model's 300; num_mels 128, the model's 80; n_fft 2048, the model's 1200; win_size 2048, the model's "
        "1200; fmax null, the model's 12000; mel official, the model's log10 (floor 1e-10))")
    stats = tiny_config(mel_stats={"mean": [0.0] * 16, "std": [1.0] * 16})
    other = tiny_config(mel_stats={"mean": [1.0] * 16, "std": [1.0] * 16})  # the same label, other values
    with pytest.raises(standalone.Refused, match=r"takes \(mel_stats \{.*\}, the model's \{.*\}\)$"):
        standalone.check_pair("a.mel.onnx", frontend_facts(stats, 25), "b.onnx", input_facts(other))
