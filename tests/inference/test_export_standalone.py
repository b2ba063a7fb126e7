"""`hifigan export --frontend` and hifigan.inference.standalone, the numpy + onnxruntime deployment of docs/export.md:
the exported front-end (NAME.mel.onnx) beside the model, its facts and its check, and the script vocoding a WAV with
the two files as `hifigan vocode` does."""

import contextlib
import io
import re
import shutil
import subprocess
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import soundfile as sf
import torch

from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.cli import main
from hifigan.errors import HifiganError
from hifigan.files.write_failures import FILE_SIZE_LIMIT
from hifigan.inference import standalone
from hifigan.inference.export import export_generator
from hifigan.inference.export_facts import frontend_facts, read_facts, with_onnx_facts
from hifigan.inference.export_frontend import FRONTEND_OPSET, TOLERANCE, check_frontend
from hifigan.mel import MelSpectrogram
from hifigan.models import Generator
from tests.support.full_disk import file_size_limit
from tests.support.signals import speechlike
from tests.support.tiny import tiny_config

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")

_RNG = np.random.default_rng(5)
STATS = {"mean": (_RNG.standard_normal(16) - 4).tolist(), "std": (_RNG.random(16) + 0.5).tolist()}
OTHER = dict(mel_convention="log10", mel_framing="center", mel_magnitude_eps=0.0, mel_stats=STATS)  # another mel


@pytest.fixture(scope="module")
def exported(tmp_path_factory, tiny_cfg):
    """(folder, checkpoint, success line) of `hifigan export -c tiny.pt -o g.onnx --frontend` of a tiny generator
    (official mel: every convention and framing is test_export_frontend.py's), and in.wav (0.5 s of a voice). One
    export: the first of a process costs ~10 s (torch.export and onnxscript imports)."""
    folder = tmp_path_factory.mktemp("export")
    torch.manual_seed(0)
    write_checkpoint(folder / "tiny.pt", generator_payload(Generator(tiny_cfg).state_dict(), tiny_cfg))
    sf.write(folder / "in.wav", speechlike(0.5, sr=tiny_cfg.sampling_rate, seed=2), tiny_cfg.sampling_rate,
             subtype="PCM_16")
    line = io.StringIO()
    with contextlib.redirect_stdout(line):
        assert main(["export", "-c", str(folder / "tiny.pt"), "-o", str(folder / "g.onnx"), "--frontend"]) == 0
    return folder, folder / "tiny.pt", line.getvalue()


def _script(*args, cwd=None):
    return subprocess.run([sys.executable, "-I", standalone.__file__, *map(str, args)], capture_output=True, text=True,
                          timeout=60, cwd=cwd)


def test_export_writes_the_front_end_beside_the_model(exported, tiny_cfg):
    """g.mel.onnx beside g.onnx (nothing else left), named in the success line; its facts are the model's plus its
    io and shortest audio; opset 18, batch and samples dynamic; onnxruntime gives MelSpectrogram's mel from the
    shortest audio on."""
    folder, _, line = exported
    assert line == f"wrote {folder / 'g.onnx'}, {folder / 'g.mel.onnx'}\n"
    assert sorted(p.name for p in folder.iterdir()) == ["g.mel.onnx", "g.onnx", "in.wav", "tiny.pt"]
    mel = MelSpectrogram(**tiny_cfg.mel_kwargs())
    facts = read_facts(folder / "g.mel.onnx")
    assert facts == frontend_facts(tiny_cfg, 25) and mel.min_samples == 25  # pad 24: one frame from 25 samples
    assert facts["io"].startswith("input 'audio' float32 [batch, samples] in [-1, 1] at 8000 Hz, samples >= 25; ")
    model = read_facts(folder / "g.onnx")
    assert {k: v for k, v in facts.items() if k not in ("io", "min_samples")} == {k: v for k, v in model.items()
                                                                                 if k != "io"}
    proto = onnx.load(folder / "g.mel.onnx")
    assert {o.domain: o.version for o in proto.opset_import}[""] == FRONTEND_OPSET
    dims = [[d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim][:2]
            for v in (proto.graph.input[0], proto.graph.output[0])]
    assert dims == [["batch", "samples"], ["batch", 16]]
    session = ort.InferenceSession(str(folder / "g.mel.onnx"), providers=["CPUExecutionProvider"])
    for samples in (25, 26, 1001):
        audio = speechlike(0.2, sr=8000, seed=3)[None, :samples].repeat(3, 0)
        audio[1:, : samples // 3] = 0  # silence: the floor and epsilon show
        expected = mel(torch.from_numpy(audio.astype(np.float64))).numpy()  # what the file computes
        got = session.run(["mel"], {"audio": audio})[0]
        assert got.shape == expected.shape == (3, 16, samples // 16)
        assert np.abs(got - expected).max() <= TOLERANCE * np.abs(expected).max()


def test_check_frontend_refuses_another_mel(exported):
    """check_frontend (run on every export before it is written) holds a front-end to the config's MelSpectrogram in
    onnxruntime: against another floor (ln-floor 1e-7, not the official 1e-5) or the other framing, a one-line error
    saying where it differs."""
    model = (exported[0] / "g.mel.onnx").read_bytes()

    def front_end(**overrides):
        return MelSpectrogram(**tiny_config(**overrides).mel_kwargs())

    check_frontend(model, front_end())
    with pytest.raises(HifiganError, match=r"^the exported mel front-end differs from MelSpectrogram by 0\.\d+ of "
                                           r"the mel's range at 201 samples \(more than 1e-06\)$"):
        check_frontend(model, front_end(mel_convention="ln-floor", mel_floor=1e-7))  # in the silence, M < 1e-5
    with pytest.raises(HifiganError, match=r"^the exported mel front-end gives 2 frames for 33 samples, "
                                           r"MelSpectrogram 3$"):
        check_frontend(model, front_end(mel_framing="center"))


def test_script_vocodes_a_wav_as_hifigan_vocode(tmp_path, exported, tiny_cfg):
    """The script run alone (python FILE g.mel.onnx g.onnx in.wav out.wav) writes what `hifigan vocode` writes from
    the checkpoint, to one int16 step; its float audio is eager's on the package's mel to float32 rounding."""
    folder, ckpt, _ = exported
    assert main(["vocode", "-c", str(ckpt), "-o", str(tmp_path / "ref"), str(folder / "in.wav"), "-q"]) == 0
    script = _script(folder / "g.mel.onnx", folder / "g.onnx", folder / "in.wav", tmp_path / "out.wav")
    assert script.returncode == 0 and script.stdout == script.stderr == "", script.stderr
    got, rate = sf.read(tmp_path / "out.wav", dtype="int16")
    expected, _ = sf.read(tmp_path / "ref" / "in.wav", dtype="int16")
    assert rate == 8000 and got.shape == expected.shape == (250 * 16,)  # 4000 samples, hop 16: 250 frames
    assert np.abs(got.astype(int) - expected).max() <= 1

    mel_session, _ = standalone.session(str(folder / "g.mel.onnx"))
    model_session, _ = standalone.session(str(folder / "g.onnx"))
    audio = standalone.read_wav(str(folder / "in.wav"), 8000)
    ours = model_session.run(None, {"mel": mel_session.run(None, {"audio": audio[None]})[0]})[0][0]
    generator = Generator(tiny_cfg)
    generator.load_state_dict(torch.load(ckpt, weights_only=True)["generator"])
    with torch.inference_mode():
        eager = generator.eval()(MelSpectrogram(**tiny_cfg.mel_kwargs())(torch.from_numpy(audio))[None])[0, 0]
    assert np.abs(ours - eager.numpy()).max() < 1e-5


# what a WAV of another rate or format is told to do: the conversion to the model's rate (8000 Hz) and format, or
# `hifigan vocode` with the options that read it as it is
CONVERT = ("convert it: ffmpeg -i IN.wav -ar 8000 -ac 1 -c:a pcm_s16le OUT.wav, or vocode it from the checkpoint: "
           "hifigan vocode")


def test_script_refuses_what_it_cannot_vocode(tmp_path, exported, tiny_cfg, capfd):
    """One line on stderr, exit 2 (as hifigan's commands), no output file: a model exported without its config, a
    model of another mel than the front-end's, a model given as the front-end, a front-end as the model, audio shorter
    than the front-end's shortest, another rate or sample format (the line says the file's, and how to convert it or
    which `hifigan vocode` options read it). Each case in process
    (its Refused line, nothing else on the process's stderr, no warning); the script run alone on the first and the
    furthest-reaching (both models loaded, the audio read) and without its arguments: the line is its whole stderr,
    exit 2."""
    folder = exported[0]
    torch.manual_seed(0)
    export_generator(Generator(tiny_cfg).eval(), "onnx", tmp_path / "bare.onnx")
    other = tiny_config(**OTHER)
    export_generator(Generator(other).eval(), "onnx", tmp_path / "other.onnx", config=other)
    sf.write(tmp_path / "short.wav", np.zeros(24, np.float32), 8000, subtype="PCM_16")
    sf.write(tmp_path / "one.wav", np.zeros(1, np.float32), 8000, subtype="PCM_16")
    sf.write(tmp_path / "22k.wav", np.zeros(2205, np.float32), 22050, subtype="PCM_16")
    sf.write(tmp_path / "st.wav", np.zeros((800, 2), np.float32), 8000, subtype="PCM_24")
    front_end, model, wav = folder / "g.mel.onnx", folder / "g.onnx", folder / "in.wav"
    cases = {
        (front_end, tmp_path / "bare.onnx", wav):
            f"{tmp_path / 'bare.onnx'}: records no mel facts (exported before they were recorded: export it again)",
        (front_end, tmp_path / "other.onnx", wav):
            f"{front_end}: computes another mel than {tmp_path / 'other.onnx'} takes (mel official, the model's log10 "
            "(floor 1e-10) normalised by mel_stats, centred frames, |X| without epsilon)",  # OTHER's every difference
        (model, model, wav): f"{model}: not a mel front-end (write one with hifigan export --frontend)",
        (front_end, front_end, wav):
            f"{front_end}: a mel front-end, not a model (give the model NAME.onnx beside NAME.mel.onnx)",
        (front_end, model, tmp_path / "short.wav"):
            f"{tmp_path / 'short.wav'}: too short: 24 samples, need at least 25",
        (front_end, model, tmp_path / "one.wav"): f"{tmp_path / 'one.wav'}: too short: 1 sample, need at least 25",
        (front_end, model, tmp_path / "22k.wav"): f"{tmp_path / '22k.wav'}: need 16-bit PCM mono at 8000 Hz (it is "
                                                      f"16-bit mono at 22050 Hz; {CONVERT} --resample)",
        (front_end, model, tmp_path / "st.wav"): f"{tmp_path / 'st.wav'}: need 16-bit PCM mono at 8000 Hz (it is "
                                                     f"24-bit 2 channels at 8000 Hz; {CONVERT} --mix-to-mono)",
    }
    capfd.readouterr()
    for args, message in cases.items():
        with pytest.raises(standalone.Refused) as refused, warnings.catch_warnings():
            warnings.simplefilter("error")
            standalone.main(*map(str, args), str(tmp_path / "out.wav"))
        assert refused.value.args == (message,) and capfd.readouterr() == ("", "")  # no onnxruntime log line
    for args in (next(iter(cases)), (front_end, model, tmp_path / "one.wav")):  # one.wav: refused after reading
        script = _script(*args, "out.wav", cwd=tmp_path)
        assert (script.returncode, script.stderr) == (2, cases[args] + "\n")
    usage = _script("a", "b", cwd=tmp_path)
    assert usage.returncode == 2 and usage.stderr.startswith("usage: python ")
    assert not (tmp_path / "out.wav").exists()


def test_script_says_one_line_for_files_it_cannot_read_or_write(tmp_path, exported):
    """A missing input, a folder, a float WAV (another format), a file that is not a WAV, one cut inside its header, a
    model file that is not ONNX, an output in a missing folder or on an input: one line naming the file (no
    traceback of wave or onnxruntime), no output and no temporary file left."""
    folder = exported[0]
    front_end, model, wav = (str(folder / name) for name in ("g.mel.onnx", "g.onnx", "in.wav"))
    sf.write(tmp_path / "float.wav", np.zeros(400, np.float32), 8000, subtype="FLOAT")
    (tmp_path / "text.wav").write_text("not audio")
    (tmp_path / "cut.wav").write_bytes((folder / "in.wav").read_bytes()[:30])
    (tmp_path / "dir").mkdir()
    t = {name: str(tmp_path / name) for name in ("float.wav", "text.wav", "cut.wav", "dir", "none.wav", "out.wav")}
    need = "need 16-bit PCM mono at 8000 Hz (not a PCM WAV file"
    cases = {
        (front_end, model, t["none.wav"], t["out.wav"]): f"{t['none.wav']}: no such file",
        (front_end, model, t["dir"], t["out.wav"]): f"{t['dir']}: is a directory, expected a file",
        (front_end, model, t["float.wav"], t["out.wav"]): f"{t['float.wav']}: {need}: unknown format: 3; {CONVERT})",
        (front_end, model, t["text.wav"], t["out.wav"]): f"{t['text.wav']}: {need}: file does not start with RIFF id; "
                                                            f"{CONVERT})",
        (front_end, model, t["cut.wav"], t["out.wav"]):
            f"{t['cut.wav']}: cannot read (the file ends inside its header)",
        (front_end, t["text.wav"], wav, t["out.wav"]):
            f"{t['text.wav']}: not an ONNX model that onnxruntime loads (InvalidProtobuf)",
        (front_end, model, wav, str(tmp_path / "none" / "out.wav")):
            f"{tmp_path / 'none' / 'out.wav'}: cannot write (No such file or directory)",
        (front_end, model, wav, t["dir"]): f"{t['dir']}: cannot write (Is a directory)",
        (front_end, model, wav, wav): f"{wav}: the output would overwrite the input {wav} (choose another OUT.wav)",
    }
    before = (folder / "in.wav").read_bytes()
    for args, message in cases.items():
        with pytest.raises(standalone.Refused) as refused:
            standalone.main(*args)
        assert refused.value.args == (message,)
    assert (folder / "in.wav").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.wav", "dir", "float.wav", "text.wav"]
    assert list((tmp_path / "dir").iterdir()) == []


def test_frontend_is_refused_where_it_cannot_be_written(tmp_path, tiny_checkpoint, capsys):
    """--frontend with a TorchScript output, and a front-end name that is a folder: one line, exit 2, and neither file
    written (refused before any export)."""
    assert main(["export", "-c", str(tiny_checkpoint), "-o", str(tmp_path / "g.pt"), "--frontend"]) == 2
    assert capsys.readouterr().err.strip().endswith(f"{tmp_path / 'g.pt'}: --frontend writes the mel front-end as "
                                                    "ONNX, beside an ONNX model: give -o NAME.onnx (it writes "
                                                    "NAME.mel.onnx too)")
    (tmp_path / "g.mel.onnx").mkdir()
    assert main(["export", "-c", str(tiny_checkpoint), "-o", str(tmp_path / "g.onnx"), "--frontend"]) == 2
    assert capsys.readouterr().err.strip().endswith(f"{tmp_path / 'g.mel.onnx'}: is a directory, expected an output "
                                                    "file path")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.mel.onnx"]


def test_the_model_and_its_front_end_are_written_as_a_unit(tmp_path, exported):
    """The front-end's write failing (a full disk; here a file size limit that the model's file fits under) leaves
    neither new file: an earlier pair as it was, no file where there was none, and one line naming the front-end."""
    small = tiny_config(upsample_initial_channel=8)  # a model file of ~14 kB, its front-end's ~33 kB
    # frontend_bytes(small), without a second export: the front-end's graph is the mel's, which `small` shares
    frontend = with_onnx_facts((exported[0] / "g.mel.onnx").read_bytes(), frontend_facts(small, 25))
    torch.manual_seed(1)
    generator = Generator(small).eval()
    old, empty = tmp_path / "old", tmp_path / "empty"
    for folder in (old, empty):
        folder.mkdir()
    for name in ("g.onnx", "g.mel.onnx"):
        shutil.copy(exported[0] / name, old / name)
    before = {p.name: p.read_bytes() for p in old.iterdir()}
    for folder in (old, empty):
        line = f"{folder / 'g.mel.onnx'}: cannot write ({FILE_SIZE_LIMIT})"
        with file_size_limit(20_000), pytest.raises(HifiganError, match=f"^{re.escape(line)}$"):
            export_generator(generator, "onnx", folder / "g.onnx", config=small, frontend=frontend)
    assert {p.name: p.read_bytes() for p in old.iterdir()} == before and list(empty.iterdir()) == []


def test_script_refuses_a_truncated_wav_as_hifigan_vocode_does(tmp_path, exported, capsys):
    """A WAV cut inside its samples (an interrupted copy) is refused in one line naming both counts, as `hifigan
    vocode` refuses it (an even cut vocoded the part without a word, an odd one was numpy's traceback); a WAV
    whose data size is a pipe writer's placeholder (0xFFFFFFFF, or 0 with samples after it) is read to its end."""
    folder = exported[0]
    front_end, model, wav = (str(folder / name) for name in ("g.mel.onnx", "g.onnx", "in.wav"))
    whole = (folder / "in.wav").read_bytes()
    start = whole.index(b"data") + 8  # the samples: 4000 promised
    for cut in (1000, 1001):
        (tmp_path / "cut.wav").write_bytes(whole[: start + cut])
        with pytest.raises(standalone.Refused) as refused:
            standalone.main(front_end, model, str(tmp_path / "cut.wav"), str(tmp_path / "out.wav"))
        assert refused.value.args == (f"{tmp_path / 'cut.wav'}: truncated WAV: the header promises 4000 frames, the "
                                      "file holds 500 (an interrupted copy or download?)",)
        assert main(["vocode", "-c", str(exported[1]), "-o", str(tmp_path / "ref"), str(tmp_path / "cut.wav")]) == 2
        assert capsys.readouterr().err.endswith(refused.value.args[0] + "\n")  # the same line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.wav"]
    standalone.main(front_end, model, wav, str(tmp_path / "whole.wav"))
    for placeholder in (b"\xff\xff\xff\xff", b"\0\0\0\0"):
        (tmp_path / "pipe.wav").write_bytes(whole[: start - 4] + placeholder + whole[start:])
        standalone.main(front_end, model, str(tmp_path / "pipe.wav"), str(tmp_path / "out.wav"))
        assert (tmp_path / "out.wav").read_bytes() == (tmp_path / "whole.wav").read_bytes()


def test_script_reads_a_wave_format_extensible_pcm_wav(tmp_path, exported):
    """A 16-bit mono WAV with a WAVE_FORMAT_EXTENSIBLE header (PCM samples; libsndfile's WAVEX, ffmpeg's and sox's
    for some layouts) vocodes as the plain WAV of those samples, as `hifigan vocode` reads it (Python's `wave`
    refused it as 'unknown format: 65534' before 3.12); a float one is still refused."""
    folder = exported[0]
    front_end, model, wav = (str(folder / name) for name in ("g.mel.onnx", "g.onnx", "in.wav"))
    samples, rate = sf.read(wav, dtype="int16")
    sf.write(tmp_path / "x.wav", samples, rate, subtype="PCM_16", format="WAVEX")
    sf.write(tmp_path / "f.wav", samples / 32768, rate, subtype="FLOAT", format="WAVEX")
    standalone.main(front_end, model, str(tmp_path / "x.wav"), str(tmp_path / "x_out.wav"))
    standalone.main(front_end, model, wav, str(tmp_path / "plain_out.wav"))
    assert (tmp_path / "x_out.wav").read_bytes() == (tmp_path / "plain_out.wav").read_bytes()
    with pytest.raises(standalone.Refused) as refused:
        standalone.main(front_end, model, str(tmp_path / "f.wav"), str(tmp_path / "f_out.wav"))
    assert refused.value.args[0].startswith(f"{tmp_path / 'f.wav'}: need 16-bit PCM mono at 8000 Hz (not a PCM WAV")


def test_the_script_counts_as_hifigan_plural_does():
    """standalone.py imports nothing of hifigan, so it keeps its own copies of the plural rule (the same words) and
    of the WAV data size that means "to the end"."""
    from hifigan.files.wav_header import _UNKNOWN_LENGTH
    from hifigan.messages.plural import count

    for noun in ("sample", "frame"):
        assert [standalone.count(n, noun) for n in (0, 1, 2, 24)] == [count(n, noun) for n in (0, 1, 2, 24)]
    assert standalone.UNKNOWN_LENGTH == _UNKNOWN_LENGTH
