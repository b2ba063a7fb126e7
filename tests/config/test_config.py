"""Config loading: built-in names, the official json files as they are, YAML, and errors that name the key."""

import json
import math
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from hifigan.arrays.upsampling import transposed_padding
from hifigan.audio import find_audio
from hifigan.config import HifiganConfig, config_from_dict, load_config
from hifigan.config.files import preset_path
from hifigan.data.clip_scan import scan_clips
from hifigan.data.dataset import VocoderDataset
from hifigan.errors import ConfigError
from hifigan.mel import MelSpectrogram
from hifigan.models import Generator
from hifigan.models.generator import ResBlock1, ResBlock2
from tests.support.files import FIXTURES
from tests.support.tiny import stft_for_hop, tiny_config


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_official_json_equals_builtin(version):
    assert load_config(FIXTURES / f"config_{version}.json") == load_config(version)


def test_builtin_hyperparameters_are_the_papers():
    v1, v2, v3 = load_config("v1"), load_config("v2"), load_config("V3")
    assert (v1.upsample_rates, v1.upsample_kernel_sizes) == ([8, 8, 2, 2], [16, 16, 4, 4])
    assert v1.upsample_initial_channel == 512
    assert v1.resblock == "1" and v1.resblock_kernel_sizes == [3, 7, 11]
    assert v1.resblock_dilation_sizes == [[1, 3, 5]] * 3
    assert v2.upsample_initial_channel == 128 and v2.resblock == "1"
    assert (v3.resblock, v3.upsample_rates, v3.upsample_kernel_sizes) == ("2", [8, 8, 4], [16, 16, 8])
    assert v3.resblock_kernel_sizes == [3, 5, 7] and v3.resblock_dilation_sizes == [[1, 2], [2, 6], [3, 12]]
    for c in (v1, v2, v3):
        assert (c.sampling_rate, c.n_fft, c.hop_size, c.win_size, c.num_mels) == (22050, 1024, 256, 1024, 80)
        assert (c.fmin, c.fmax, c.fmax_for_loss) == (0, 8000, None)
        assert (c.mel_kwargs()["fmax"], c.mel_kwargs(for_loss=True)["fmax"]) == (8000, None)  # the loss: sr / 2
        assert (c.learning_rate, c.adam_b1, c.adam_b2, c.lr_decay) == (2e-4, 0.8, 0.99, 0.999)
        assert (c.batch_size, c.segment_size) == (16, 8192)
        assert c.loss_weights == {"mel": 45.0, "fm": 2.0, "adv": 1.0} and c.discriminators == ["mpd", "msd"]
        assert c.upsample_factor == 256


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_yaml_config(tmp_path, suffix):
    path = tmp_path / f"small{suffix}"
    path.write_text("resblock: 2\nupsample_rates: [8, 8, 4]\nupsample_kernel_sizes: [16, 16, 8]\n"
                    "upsample_initial_channel: 64\nresblock_kernel_sizes: [3]\nresblock_dilation_sizes: [[1, 2]]\n"
                    "batch_size: 4\n")
    cfg = load_config(path)
    assert cfg.resblock == "2" and cfg.upsample_initial_channel == 64 and cfg.batch_size == 4
    assert cfg.resblock_dilation_sizes == [[1, 2]]


def test_round_trip_through_dict(tmp_path):
    cfg = load_config("v3")
    path = tmp_path / "c.json"
    path.write_text(json.dumps(cfg.to_dict()))
    assert load_config(path) == cfg


def test_unknown_key_is_named(tmp_path):
    values = json.loads((FIXTURES / "config_v1.json").read_text())
    values["upsample_rate"] = [8, 8, 2, 2]
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(values))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}: unknown config key 'upsample_rate' (did you mean 'upsample_rates'?)"
    values = {"sampling_rate": 22050, "zzz": 1}  # nothing like it: no guess
    path.write_text(json.dumps(values))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}: unknown config key 'zzz'"


def test_unknown_key_in_dist_config_is_named(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"dist_config": {"backend": "gloo"}}))
    with pytest.raises(ConfigError, match="'backend'"):
        load_config(path)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"resblock": "3"}, "resblock must be"),
        ({"upsample_rates": [8, 8, 2]}, "differ in length"),
        ({"hop_size": 200}, "product of upsample_rates"),
        ({"segment_size": 8000}, "multiple of hop_size"),
        ({"resblock_kernel_sizes": [3, 7]}, "differ in length"),
        ({"upsample_initial_channel": 100}, "upsample_initial_channel must be divisible by 2 \\*\\* len"),  # 4 halvings
        *(({"audio_peak": v}, r"audio_peak must be a number") for v in (0, 1.5, True, "0.9")),
    ],
)
def test_inconsistent_configs_are_rejected(tmp_path, values, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(values))
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.json")
    (tmp_path / "broken.json").write_text("{ not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(tmp_path / "broken.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(tmp_path / "list.json")
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


@pytest.mark.parametrize("name", ["v1", "v3"])
def test_a_folder_named_like_a_preset_does_not_hide_it(tmp_path, monkeypatch, name):
    """`hifigan vocode --out v1` makes such a folder; a folder is never a config, so the name stays the preset's."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).mkdir()
    assert load_config(name) == load_config(preset_path(name))
    (tmp_path / "mine").mkdir()
    with pytest.raises(ConfigError, match=r"^mine: is a directory"):  # a folder of another name is still an error
        load_config("mine")


def test_a_path_is_never_a_preset_name(tmp_path, monkeypatch):
    """A missing ../configs/v1 names a file, not the preset: hifigan/configs/../configs/v1.json is v1's file."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^\.\./configs/v1: no such config file or preset \(presets: "):
        load_config("../configs/v1")


@pytest.mark.parametrize("name", ["", "  "])
def test_an_empty_name_is_not_a_config(name):
    """Not `.: is a directory` (Path("") is the current folder)."""
    with pytest.raises(ConfigError, match=r"^config '\s*': an empty name is not a config \(a preset such as v1, or "
                                          r"a file\)$"):
        load_config(name)


def test_dataclass_default_is_v1():
    assert HifiganConfig() == load_config("v1")


def _upsampling(rates: list[int], kernels: list[int]) -> dict:
    """Tiny config values with these upsampling stages."""
    hop = math.prod(rates)
    return {**tiny_config().to_dict(), "upsample_rates": rates, "upsample_kernel_sizes": kernels,
            "segment_size": 8 * hop, **stft_for_hop(hop)}


def _suggestion(error: ConfigError) -> int:
    """The value a geometry error says to use (its one line ends "use N")."""
    return int(re.fullmatch(r".*; use (\d+)\)?", str(error)).group(1))


def _covers(rate: int, kernel: int, padding: int, output_padding: int, length: int) -> bool:
    """Whether a real ConvTranspose1d turns `length` samples into exactly length x rate, each reached by a tap
    (all-ones weights on ones: a sample no tap reaches is 0, the bias alone)."""
    conv = nn.ConvTranspose1d(1, 1, kernel, rate, padding, output_padding, bias=False)
    nn.init.ones_(conv.weight)
    try:
        with torch.no_grad():
            out = conv(torch.ones(1, 1, length))
    except RuntimeError:  # PyTorch refuses an output padding >= the stride, or an empty output
        return False
    return out.shape[-1] == length * rate and bool((out > 0).all())


@settings(max_examples=120, deadline=None)
@given(rate=st.integers(1, 12), kernel=st.integers(1, 32), length=st.integers(1, 40))
def test_an_upsampling_is_exact_or_refused_naming_a_kernel_that_is(rate, kernel, length):
    """Accepted: the padding and output padding of `transposed_padding` (which the generator builds) turn L
    samples into exactly L x rate, every one reached by a tap, with the official (k - u) // 2 wherever that is
    exact. Refused: no choice would do (kernel < rate leaves samples no tap reaches; rate 1 allows no output
    padding, so k - 1 must be even), in one line naming the key and a kernel that is accepted."""
    try:
        tiny_config(**_upsampling([4, rate], [8, kernel]))
    except ConfigError as e:
        assert "\n" not in str(e)
        assert str(e).startswith(f"upsample_kernel_sizes[1] = {kernel} with upsample_rates[1] = {rate}: ")
        # padding p > (k - 1) / 2 leaves fewer than L x rate samples; PyTorch wants output padding < rate
        assert not any(_covers(rate, kernel, p, q, length) for p in range(kernel // 2 + 1) for q in range(rate))
        assert kernel < rate or (rate == 1 and kernel % 2 == 0)
        with pytest.raises(ValueError):
            transposed_padding(rate, kernel)
        tiny_config(**_upsampling([4, rate], [8, _suggestion(e)]))  # the suggested kernel is accepted
        return
    padding, output_padding = transposed_padding(rate, kernel)
    assert _covers(rate, kernel, padding, output_padding, length)
    if (kernel - rate) % 2 == 0:
        assert (padding, output_padding) == ((kernel - rate) // 2, 0)  # the official padding


def test_a_geometry_without_an_exact_padding_is_refused_at_load_time(tmp_path):
    """In one line naming the file, the key and a kernel to use; the generator then builds that kernel exactly."""
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(_upsampling([5, 3], [10, 2])))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == (f"{path}: upsample_kernel_sizes[1] = 2 with upsample_rates[1] = 3: kernel 2 is shorter "
                              f"than its rate 3 (some output samples would see no input); use 6")
    path.write_text(json.dumps(_upsampling([5, 3], [10, _suggestion(err.value)])))
    cfg = load_config(path)
    ups = Generator(cfg).ups
    assert [(up.padding[0], up.output_padding[0]) for up in ups] == [(3, 1), (2, 1)]
    with torch.no_grad():
        assert ups[1](ups[0](torch.randn(1, 32, 7))).shape == (1, 8, 7 * 15)


def test_kernel_twice_the_rate_is_accepted_for_every_rate_but_1():
    """k = 2u, the usual choice, is exact for u >= 2 (official padding for even u, one output sample more for
    odd u); for u = 1 it is not (2p - q = 1 needs q = 1, and PyTorch wants q < the stride): 3 is suggested."""
    for rate in range(2, 65):
        padding, output_padding = transposed_padding(rate, 2 * rate)
        assert 2 * padding - output_padding == rate and output_padding == rate % 2
        tiny_config(**_upsampling([rate, 2], [2 * rate, 4]))
    with pytest.raises(ConfigError, match=r"^upsample_kernel_sizes\[1\] = 2 with upsample_rates\[1\] = 1: ") as err:
        tiny_config(**_upsampling([4, 1], [8, 2]))
    assert _suggestion(err.value) == 3 and transposed_padding(1, 3) == (1, 0)


@settings(max_examples=50, deadline=None)
@given(resblock=st.sampled_from("12"), kernel=st.integers(1, 16), dilation=st.integers(1, 8), extra=st.integers(1, 40))
def test_a_residual_kernel_keeps_the_length_or_is_refused(resblock, kernel, dilation, extra):
    """Every convolution of a residual block must keep the length ('same' padding): (kernel - 1) x dilation even,
    for resblock 1 also with dilation 1 (its second convolutions); refused in one line naming the key, the
    dilation and an accepted kernel."""
    values = {"resblock_kernel_sizes": [3, kernel], "resblock_dilation_sizes": [[1, 3], [dilation]]}
    block = (ResBlock1 if resblock == "1" else ResBlock2)(1, kernel, (dilation,))
    length = (kernel - 1) * dilation + extra  # at least the kernel's span, so even an unpadded one runs
    with torch.no_grad():
        kept = all(c(torch.ones(1, 1, length)).shape[-1] == length for c in block.modules() if isinstance(c, nn.Conv1d))
    try:
        tiny_config(resblock, **values)
    except ConfigError as e:
        assert not kept and "\n" not in str(e)
        assert re.match(rf"resblock_kernel_sizes\[1\] = {kernel} with dilation \d .*cannot keep the length", str(e))
        tiny_config(resblock, **{**values, "resblock_kernel_sizes": [3, _suggestion(e)]})
        return
    assert kept


@pytest.mark.filterwarnings("ignore")  # clips shorter than a segment: the scan says so
def test_an_odd_rate_training_segment_generates_exactly_its_samples(tiny_corpus):
    """A training item's mel (segment_size // hop frames) gives exactly segment_size samples, so the train step's
    loss mel of the generated audio has the item's frames (rates [3, 5, 2]: two stages with output padding)."""
    cfg = tiny_config("1", upsample_rates=[3, 5, 2], upsample_kernel_sizes=[6, 10, 4], hop_size=30, segment_size=480)
    dataset = VocoderDataset(scan_clips(find_audio(tiny_corpus), cfg, cli=True).clips, cfg, train=True, cli=True)
    generator = Generator(cfg)
    loss_mel = MelSpectrogram(**cfg.mel_kwargs(for_loss=True))
    for i in range(len(dataset)):
        mel, audio, mel_target, _ = dataset[i]
        assert mel.shape == (cfg.num_mels, 16) and audio.shape == (480,)
        with torch.no_grad():
            generated = generator(mel[None])
        assert generated.shape == (1, 1, 480) and loss_mel(generated[:, 0]).shape == (1, *mel_target.shape)


def test_official_framing_with_an_odd_n_fft_minus_hop_is_refused():
    """(n_fft - hop) // 2 per side rounds down: a segment of F hops would give F - 1 frames and the generated audio
    would miss a hop (the train step fails). Refused in one line naming the keys and an n_fft that works."""
    odd = dict(upsample_rates=[5, 3, 17], upsample_kernel_sizes=[10, 6, 34], hop_size=255, segment_size=255 * 8)
    with pytest.raises(ConfigError, match=r"n_fft - hop_size \(1024 - 255\) is odd.*use n_fft 1025$"):
        config_from_dict(odd)
    cfg = config_from_dict({**odd, "n_fft": 1025})
    assert MelSpectrogram(**cfg.mel_kwargs()).num_frames(cfg.segment_size) == 8
    assert config_from_dict({**odd, "mel_framing": "center"}).mel_framing == "center"  # centred frames: any n_fft


def test_a_checkpoint_given_as_config_is_named_as_binary(tmp_path):
    """`--config runs/x/checkpoints/latest.pt` (a checkpoint carries its config) was refused with Python's codec
    message ("cannot read ('utf-8' codec can't decode byte 0x80 ...)"); the error now says what the file is not."""
    from hifigan.checkpoints.format import generator_payload, write_checkpoint

    cfg = tiny_config()
    write_checkpoint(tmp_path / "latest.pt", generator_payload(Generator(cfg).state_dict(), cfg, step=1))
    with pytest.raises(ConfigError) as caught:
        load_config(str(tmp_path / "latest.pt"))
    assert str(caught.value) == (f"{tmp_path / 'latest.pt'}: not a JSON or YAML config (a binary file: a checkpoint? "
                                 "a config is a preset name or a text file such as `hifigan configs --show NAME` "
                                 "prints)")


def test_an_edited_file_reads_as_its_editor_meant_or_says_where_it_is_wrong(tmp_path):
    """A preset copied and edited: a byte-order mark (Windows editors) and YAML anchors, merges and comments are
    read; a key given twice (the parsers would keep the last without a word), a tab in YAML and an empty file are
    one line naming the file and the key or the line."""
    v1 = (FIXTURES / "config_v1.json").read_text()
    (tmp_path / "bom.json").write_text("\ufeff" + v1, encoding="utf-8")
    assert load_config(tmp_path / "bom.json") == load_config("v1")
    (tmp_path / "merged.yaml").write_text("# fine-tune\nlearning_rate: 1.0e-5  # low\ndiscriminator_args:\n"
                                          "  mpd: &p {periods: [2, 3, 5]}\n  msd: {<<: {scales: 2}, scales: 3}\n")
    merged = load_config(tmp_path / "merged.yaml")
    assert merged.learning_rate == 1e-5 and merged.discriminator_args == {"mpd": {"periods": [2, 3, 5]},
                                                                         "msd": {"scales": 3}}
    bad = {"twice.json": (v1[:v1.rindex("}")] + ', "hop_size": 512}', "key 'hop_size' is given twice: keep one"),
           "twice.yaml": ("learning_rate: 1.0e-5\nbatch_size: 4\nlearning_rate: 2.0e-4\n",
                          "key 'learning_rate' is given twice (lines 1 and 3): keep one"),
           "inner.json": ('{"dist_config": {"world_size": 1, "world_size": 2}}', "key 'world_size' is given twice"),
           "tab.yaml": ("learning_rate: 1.0e-5\n\tbatch_size: 4\n",
                        "not valid YAML (line 2, column 1: found character '\\t' that cannot start any token)"),
           "empty.json": ("\n", "is empty, expected a mapping of config keys"),
           "list.yaml": ("- v1\n", "must contain a mapping of config keys, got a list"),
           "null.json": ("null\n", "must contain a mapping of config keys, got null")}
    for name, (text, said) in bad.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ConfigError) as e:
            load_config(tmp_path / name)
        assert str(e.value).startswith(f"{tmp_path / name}: {said}") and "\n" not in str(e.value), str(e.value)
