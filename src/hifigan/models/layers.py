"""The generator's layers as data: what every inference engine reads instead of restating the network.

Each block of `Generator` describes its convolutions (kernel, stride, dilation, padding and the activation of
their input) in the order its forward applies them. From that the description derives the reach of every
layer, the receptive field and the per-stage halos; the engines fold and tile from it, and refuse a model
with a layer kind they do not implement (`GeneratorLayers.missing`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from torch import nn
from torch.nn.utils import parametrize

from hifigan.errors import HifiganError


@dataclass(frozen=True)
class ReceptiveField:
    """Mel frames of context one output frame needs: `left` past frames and `right` future (look-ahead) frames."""

    left: int
    right: int


@dataclass(frozen=True)
class Activation:
    """A pointwise function: kind "leaky_relu" (with `slope`), "tanh", "identity", or another module's class name.

    Equal activations compare equal wherever they sit (`where`, the module's path, is left out)."""

    kind: str
    slope: float | None = None
    where: str = field(default="", compare=False)


def describe_activation(module: nn.Module, where: str) -> Activation:
    """The activation a module computes; exact types only (a subclass may compute something else)."""
    kind = type(module)
    if kind is nn.LeakyReLU:
        return Activation("leaky_relu", float(module.negative_slope), where)
    if kind is nn.ReLU:
        return Activation("leaky_relu", 0.0, where)
    if kind in (nn.Tanh, nn.Identity):
        return Activation(kind.__name__.lower(), None, where)
    return Activation(kind.__name__, None, where)


@dataclass(frozen=True)
class Conv:
    """conv(act(x)) for the Conv1d / ConvTranspose1d module at `where`; `act` None: the input is used as is.

    `kind` is "conv1d" or "conv_transpose1d" for a plain convolution (zero padding, one group, a bias);
    anything else is spelled out, e.g. "conv1d(groups=2)", so that no engine takes it for a plain one."""

    where: str
    kind: str
    kernel: int
    stride: int
    dilation: int
    padding: int
    act: Activation | None = None

    @property
    def transposed(self) -> bool:
        return self.kind.startswith("conv_transpose1d")

    def reach(self, lo: int, hi: int) -> tuple[int, int]:
        """Input indices read for output indices [lo, hi]."""
        span = (self.kernel - 1) * self.dilation
        if self.transposed:  # output o = i * stride - padding + j * dilation, for taps j (output padding only
            # lengthens the output: it changes no output's inputs)
            return math.ceil((lo + self.padding - span) / self.stride), (hi + self.padding) // self.stride
        return lo * self.stride - self.padding, hi * self.stride - self.padding + span


def describe_conv(module: nn.Module, where: str, act: Activation | None) -> Conv:
    """The geometry of a Conv1d or ConvTranspose1d, parametrized or not (the engines read `.weight`, which applies
    a parametrization such as weight norm); any other module gets its class name as kind."""
    cls = type(module).__bases__[0] if parametrize.is_parametrized(module) else type(module)
    if cls not in (nn.Conv1d, nn.ConvTranspose1d):
        return Conv(where, cls.__name__, 1, 1, 1, 0, act)
    kind = "conv1d" if cls is nn.Conv1d else "conv_transpose1d"
    extras = [f"groups={module.groups}"] if module.groups != 1 else []
    extras += [f"padding_mode={module.padding_mode}"] if module.padding_mode != "zeros" else []
    extras += ["no bias"] if module.bias is None else []
    kind += f"({', '.join(extras)})" if extras else ""
    return Conv(where, kind, module.kernel_size[0], module.stride[0], module.dilation[0], module.padding[0], act)


def _chain_reach(convs: tuple[Conv, ...], lo: int, hi: int) -> tuple[int, int]:
    for conv in reversed(convs):
        lo, hi = conv.reach(lo, hi)
    return lo, hi


@dataclass(frozen=True)
class Block:
    """A residual block at `where`: `units` applied in turn, each x = x + convs(x) (its convs in order).

    `custom` names the block's own forward when it is not the one this description was written for."""

    where: str
    units: tuple[tuple[Conv, ...], ...]
    custom: str | None = None

    def reach(self, lo: int, hi: int) -> tuple[int, int]:
        """Input indices read for output indices [lo, hi] (the residual path reads [lo, hi] itself)."""
        for unit in reversed(self.units):
            u_lo, u_hi = _chain_reach(unit, lo, hi)
            lo, hi = min(lo, u_lo), max(hi, u_hi)
        return lo, hi


@dataclass(frozen=True)
class Stage:
    """One upsampling stage: the transposed conv `up`, then multi-receptive-field fusion, the mean of `blocks`."""

    up: Conv
    blocks: tuple[Block, ...]

    def reach(self, lo: int, hi: int) -> tuple[int, int]:
        """Stage-input indices read for stage-output indices [lo, hi]."""
        spans = [block.reach(lo, hi) for block in self.blocks]
        return self.up.reach(min(s[0] for s in spans), max(s[1] for s in spans))


@dataclass(frozen=True)
class GeneratorLayers:
    """conv_pre, the stages, conv_post, then `output` (the final activation): the generator, as data.

    `custom` lists forward methods of the generator that are not the ones described (a subclass's)."""

    conv_pre: Conv
    stages: tuple[Stage, ...]
    conv_post: Conv
    output: Activation
    custom: tuple[str, ...] = ()

    @property
    def hop(self) -> int:
        return math.prod(stage.up.stride for stage in self.stages)

    def receptive_field(self) -> ReceptiveField:
        """Exact mel context of one output frame, derived layer by layer backwards from frame 0's samples."""
        lo, hi = self.conv_post.reach(0, self.hop - 1)
        for stage in reversed(self.stages):
            lo, hi = stage.reach(lo, hi)
        lo, hi = self.conv_pre.reach(lo, hi)
        return ReceptiveField(left=-lo, right=hi)

    def stage_halo(self, i: int) -> tuple[int, int]:
        """Input samples of stage i needed left and right of a span's own to compute its outputs exactly
        (for the last stage: through conv_post)."""
        lo, hi = 0, self.stages[i].up.stride - 1  # the outputs of input sample 0
        if i == len(self.stages) - 1:
            lo, hi = self.conv_post.reach(lo, hi)
        lo, hi = self.stages[i].reach(lo, hi)
        return -lo, hi

    def convs(self) -> Iterator[Conv]:
        """Every convolution, in the order the forward applies them."""
        yield self.conv_pre
        for stage in self.stages:
            yield stage.up
            for block in stage.blocks:
                for unit in block.units:
                    yield from unit
        yield self.conv_post

    def kinds(self) -> Iterator[tuple[str, str]]:
        """(kind, where) of every layer: convolutions, the activations before them, "output <kind>" for the
        final activation and "<Class>.<method>" for each forward that is not the described one."""
        for method in self.custom:
            yield method, "the generator"
        for stage in self.stages:
            for block in stage.blocks:
                if block.custom is not None:
                    yield block.custom, block.where
        for conv in self.convs():
            if conv.act is not None:
                yield conv.act.kind, conv.act.where
            yield conv.kind, conv.where
        yield f"output {self.output.kind}", self.output.where

    def missing(self, supported: frozenset[str]) -> tuple[str, str] | None:
        """The first (kind, where) not in `supported`, or None when an engine implementing it runs every layer."""
        return next(((kind, where) for kind, where in self.kinds() if kind not in supported), None)

    def check(self, supported: frozenset[str], engine: str) -> None:
        """Raise a one-line HifiganError naming the first layer `engine` (implementing `supported`) lacks."""
        if (lack := self.missing(supported)) is not None:
            raise HifiganError(None, f"{unsupported_message(engine, *lack)}; backend eager runs any generator")


def unsupported_message(engine: str, kind: str, where: str) -> str:
    """The one wording of a layer an engine lacks: backend ENGINE does not implement KIND (WHERE)."""
    return f"backend {engine} does not implement {kind} ({where})"


def custom_methods(module: nn.Module, base: type, names: tuple[str, ...]) -> tuple[str, ...]:
    """The names `Class.method` of those of `names` that `module`'s class overrides from `base`."""
    cls = type(module)
    return tuple(f"{cls.__name__}.{name}" for name in names if getattr(cls, name) is not getattr(base, name))
