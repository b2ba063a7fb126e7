"""What a Python caller may pass where a Vocoder takes a generator and a config: a model and a config (a preset name,
a file's path or a HifiganConfig); anything else is a one-line TypeError naming the argument, with the call that
takes what was given where there is one, never an AttributeError or OSError from inside."""

import json

import numpy as np
import pytest
import torch

from hifigan.config import config_from_dict, load_config
from hifigan.errors import HifiganError
from hifigan.inference.packing import Buckets
from hifigan.inference.vocoder import Vocoder
from hifigan.models import Generator
from hifigan.training.data_parallel import DistInfo, training_device


def _mel(num_mels: int) -> np.ndarray:
    return np.random.default_rng(0).normal(-5, 1, (num_mels, 12)).astype(np.float32)


def test_a_state_dict_or_a_path_given_as_the_generator_is_a_type_error_naming_the_call_that_reads_it(tiny_cfg,
                                                                                                      tiny_checkpoint):
    """Was AttributeError: "'collections.OrderedDict' object has no attribute 'parameters'" (a str: "'str' object
    ...") from inside the constructor."""
    state = Generator(tiny_cfg).state_dict()
    with pytest.raises(TypeError, match=r"^generator must be a torch.nn.Module \(the generator model\), not an "
                                        r"OrderedDict \(a state dict\? Vocoder.from_checkpoint\(state_dict, "
                                        r"config=\.\.\.\) reads one\)$"):
        Vocoder(state, tiny_cfg)
    with pytest.raises(TypeError, match=r"^generator must be a torch.nn.Module \(the generator model\), not a str "
                                        r"\(a checkpoint's path\? Vocoder.from_checkpoint\(path\) reads it\)$"):
        Vocoder(str(tiny_checkpoint), tiny_cfg)
    with pytest.raises(TypeError, match=r"^generator must be a torch.nn.Module \(the generator model\), not a "
                                        r"NoneType$"):
        Vocoder(None, tiny_cfg)


def test_the_config_may_be_named_as_from_checkpoint_takes_it(tiny_cfg, tiny_config_json):
    """Vocoder(generator, 'v3') was AttributeError "'str' object has no attribute 'num_mels'"; from_checkpoint took
    the name all along."""
    torch.manual_seed(0)
    generator = Generator(tiny_cfg)
    state = generator.state_dict()
    want = Vocoder(generator, tiny_cfg)(_mel(tiny_cfg.num_mels))
    for config in (tiny_config_json, str(tiny_config_json)):
        same = Generator(tiny_cfg)
        same.load_state_dict(state)
        vocoder = Vocoder(same, config)
        assert vocoder.config == tiny_cfg
        assert torch.equal(vocoder(_mel(tiny_cfg.num_mels)), want)


@pytest.mark.parametrize("given", ["dict", "int", "None-list"])
def test_a_config_of_another_type_is_a_type_error_naming_the_argument(tiny_cfg, tiny_checkpoint, given):
    """A dict (json.load of a config.json) was OSError "[Errno 36] File name too long: '{...}'" (a short one: "no
    such config file or preset" naming its repr), an int "3: no such config file or preset": the value was read as
    a path. load_config, Vocoder and from_checkpoint (ours: the config laid over the checkpoint's) say it alike."""
    value = {"dict": tiny_cfg.to_dict(), "int": 3, "None-list": [None]}[given]
    kind = {"dict": "dict", "int": "int", "None-list": "list"}[given]
    hint = (r" \(a config file's keys, as json.load gives them\? hifigan.config.config_from_dict\(values\) builds "
            r"the config\)") if given == "dict" else ""
    message = (r"^config must be a preset name, a config file's path \(a str or os.PathLike\) or a HifiganConfig, "
               rf"not an? {kind}{hint}$")
    with pytest.raises(TypeError, match=message):
        load_config(value)
    with pytest.raises(TypeError, match=message):
        Vocoder(Generator(tiny_cfg), value)
    with pytest.raises(TypeError, match=message):
        Vocoder.from_checkpoint(tiny_checkpoint, config=value)


def test_the_dict_hint_builds_the_same_config(tiny_cfg, tiny_config_json):
    """What the dict's hint says to run gives the config the file gives."""
    assert config_from_dict(json.loads(tiny_config_json.read_text())) == load_config(tiny_config_json) == tiny_cfg


@pytest.mark.parametrize("value", ["yes", "off", 1, 0.0])
def test_shape_buckets_of_another_type_is_a_type_error_naming_the_argument(tiny_cfg, tiny_checkpoint, value):
    """shape_buckets="off" (--shape-buckets's word, which the error then translates) was taken as truthy: buckets
    on, with no word said; 1 and 0.0 likewise. Vocoder and from_checkpoint refuse it alike; True, False, None and a
    Buckets still build."""
    word = {"yes": "", "off": r" \(--shape-buckets off is shape_buckets=False\)"}.get(value, "")
    message = (r"^shape_buckets must be True, False, None \(auto: on CUDA only\) or a "
               rf"hifigan.inference.packing.Buckets, not an? {type(value).__name__}{word}$")
    with pytest.raises(TypeError, match=message):
        Vocoder(Generator(tiny_cfg), tiny_cfg, shape_buckets=value)
    with pytest.raises(TypeError, match=message):
        Vocoder.from_checkpoint(tiny_checkpoint, shape_buckets=value)
    buckets = Buckets(frames_per_octave=4)
    built = {given: Vocoder(Generator(tiny_cfg), tiny_cfg, shape_buckets=given).buckets
             for given in (True, False, None, buckets)}
    assert built == {True: Buckets(), False: None, None: None, buckets: buckets}


def test_device_none_is_refused_as_none_at_every_entry_point(tiny_cfg, tiny_checkpoint):
    """device=None was refused as `device='None'`, a string the caller never wrote. No entry point takes None for
    its default ("cpu": Vocoder, from_checkpoint, from_pretrained, TrainOptions), so each says None as written; a
    torch.device is still named by its str."""
    message = r"^device=None: not a device \(accepted: cpu, cuda, cuda:N\)$"
    with pytest.raises(HifiganError, match=message):
        Vocoder(Generator(tiny_cfg), tiny_cfg, device=None)
    with pytest.raises(HifiganError, match=message):
        Vocoder.from_checkpoint(tiny_checkpoint, device=None)
    with pytest.raises(HifiganError, match=message):
        training_device(None, DistInfo(), cli=False)
    with pytest.raises(HifiganError, match=r"^device='meta': a meta device holds no values"):
        Vocoder(Generator(tiny_cfg), tiny_cfg, device=torch.device("meta"))
    assert Vocoder(Generator(tiny_cfg), tiny_cfg, device=torch.device("cpu")).device == torch.device("cpu")
