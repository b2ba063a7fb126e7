"""Whether a config describes a generator it is given with (Vocoder, export_generator): its hop and mel bins, then
every convolution's geometry against the generator the config builds (on the meta device: no weights), so that a V3
generator with a V1 config is refused, not run at a geometry the config does not say. A config listing more
dilations than the official code builds is read as it reads them (checkpoints.official_blocks), as load_generator and
load_official_generator read it."""

from __future__ import annotations

from typing import Any

from torch import nn

from hifigan.checkpoints.official_blocks import as_official_code_builds
from hifigan.config import HIFIGAN_GENERATOR, HifiganConfig
from hifigan.errors import HifiganError
from hifigan.messages.plural import agree
from hifigan.models.generator import ResBlock1, ResBlock2
from hifigan.models.generators import layer_description, meta_generator
from hifigan.models.layers import GeneratorLayers

NOT_DESCRIBED = "the config does not describe this generator"


def check_fits(generator: nn.Module, layers: GeneratorLayers, config: HifiganConfig) -> HifiganConfig:
    """That `config` describes `generator` (whose layers are `layers`): its hop and mel bins, then the kernel,
    stride, dilation and channels of each convolution the config builds. Else a one-line HifiganError now, where a
    call would end in torch's channel error, cut a batch or stream at the config's hop, or vocode with a model the
    config (and a file exported with it) misstates. Returns the config as the generator is built from it (a fork's
    dilations cut to the official count: as_official_code_builds), what an export records."""
    bins = getattr(generator.get_submodule(layers.conv_pre.where), "in_channels", config.num_mels)
    if (layers.hop, bins) != (config.hop_size, config.num_mels):
        raise HifiganError(None, f"{NOT_DESCRIBED}: it takes {bins} mel bins at hop {layers.hop}, the config has "
                                 f"num_mels {config.num_mels} and hop_size {config.hop_size}")
    config = as_official_code_builds(config, generator.state_dict())  # a fork's config, as an official g_* is read
    try:
        built = meta_generator(config)[0]
        built_layers = layer_description(built)
    except Exception:  # a config this process cannot build (its generator registered elsewhere): hop and bins only
        return config
    if built_layers is None:
        return config
    mine, theirs = _geometry(generator, layers), _geometry(built, built_layers)
    if _agrees(list(mine.items()), list(theirs.items())):
        return config
    if config.generator == HIFIGAN_GENERATOR:
        keys, config_keys = _hifigan_keys(generator, mine, layers), _hifigan_keys(built, theirs, built_layers)
        differ = [key for key in keys if not _agrees(keys[key], config_keys[key])]
        if differ:
            more = f"; {', '.join(differ[1:])} {agree(len(differ) - 1, 'differs', 'differ')} too" if differ[1:] else ""
            raise HifiganError(None, f"{NOT_DESCRIBED}: it has {differ[0]} {keys[differ[0]]!r}, the config "
                                     f"{config_keys[differ[0]]!r}{more}")
    pairs = list(zip(mine.items(), theirs.items()))
    at = next((i for i, (a, b) in enumerate(pairs) if not _agrees(a, b)), len(pairs))
    raise HifiganError(None, f"{NOT_DESCRIBED}: it has {_said(mine, at)}, the config's generator {_said(theirs, at)}")


Geometry = dict[str, list[int | None]]  # where -> [kernel, stride, dilation, in channels, out channels]


def _geometry(generator: nn.Module, layers: GeneratorLayers) -> Geometry:
    """Each convolution in forward order, by where it sits: what a config's keys set (paddings and activations follow
    from them or are the code's own). A module that is no convolution (eager runs it) has None: it agrees with any."""
    convs = {}
    for conv in layers.convs():
        module = generator.get_submodule(conv.where)
        convs[conv.where] = ([conv.kernel, conv.stride, conv.dilation, module.in_channels, module.out_channels]
                             if isinstance(module, nn.Conv1d | nn.ConvTranspose1d) else [None] * 5)
    return convs


def _agrees(a: Any, b: Any) -> bool:
    """Equal, where None (a value a layer does not show) agrees with anything; lists and tuples item by item."""
    if a is None or b is None:
        return True
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_agrees(x, y) for x, y in zip(a, b))
    return a == b


def _said(convs: Geometry, at: int) -> str:
    """Convolution `at` of `convs` (forward order) in words, where it sits first."""
    if at >= len(convs):
        return "no more convolutions"
    where, (kernel, stride, dilation, channels_in, channels_out) = list(convs.items())[at]
    if kernel is None:
        return f"{where} (no convolution)"
    return (f"{where} (kernel {kernel}, stride {stride}, dilation {dilation}, {channels_in} -> {channels_out} "
            "channels)")


KERNEL, STRIDE, DILATION, OUT = 0, 1, 2, 4  # Geometry's places


def _hifigan_keys(generator: nn.Module, convs: Geometry, layers: GeneratorLayers) -> dict[str, Any]:
    """The HiFi-GAN config keys a generator (its convolutions `convs`) shows, in the config file's order: each stage's
    upsampling, the channels it starts from, the first stage's residual blocks (every stage repeats them)."""
    blocks = layers.stages[0].blocks if layers.stages else ()
    return {
        "upsample_rates": [convs[stage.up.where][STRIDE] for stage in layers.stages],
        "upsample_kernel_sizes": [convs[stage.up.where][KERNEL] for stage in layers.stages],
        "upsample_initial_channel": convs[layers.conv_pre.where][OUT],
        "resblock": next((_resblock(generator.get_submodule(block.where)) for block in blocks), None),
        "resblock_kernel_sizes": [convs[block.units[0][0].where][KERNEL] if block.units else None for block in blocks],
        "resblock_dilation_sizes": [[convs[unit[0].where][DILATION] for unit in block.units] for block in blocks],
    }


def _resblock(module: nn.Module) -> str:
    """The config's resblock value that builds `module`: "1", "2", or (another block) its class name."""
    return "1" if isinstance(module, ResBlock1) else "2" if isinstance(module, ResBlock2) else type(module).__name__
