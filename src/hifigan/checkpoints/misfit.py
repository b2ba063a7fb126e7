"""Why a HiFi-GAN generator's weights do not fit a config: the config key behind the first tensor that does not fit
(format.load_state_strict's message)."""

from __future__ import annotations

from typing import Any

_BLOCK_LAYERS = {"1": "convs1, convs2", "2": "convs"}  # resblock -> its residual blocks' layer lists


def generator_mismatch(key: str, state: dict[str, Any], expected: dict[str, Any]) -> str | None:
    """The HiFi-GAN generator's config key behind the first tensor that does not fit, as 'KEY is X, the weights
    take Y', from the tensor's name and shapes (our parametrization keys or official weight_g / weight_v alike;
    None where no key explains it). Conv1d weights are (out, in, kernel), ConvTranspose1d (in, out, kernel)."""
    parts = key.split(".")

    def count(d: dict[str, Any], prefix: str) -> int:
        return len({k.split(".")[1] for k in d if k.startswith(prefix + ".")})

    def dilations(d: dict[str, Any], block: str) -> tuple[str, int]:
        names = {k.split(".")[2] for k in d if k.startswith(block + ".")}
        layer = "convs1" if "convs1" in names else "convs"
        layers = {k.split(".")[3] for k in d if k.startswith(f"{block}.{layer}.")}
        return ("1" if layer == "convs1" else "2"), len(layers)

    ups = (count(expected, "ups"), count(state, "ups"))
    kernels = tuple(count(d, "resblocks") // max(n, 1) for d, n in ((expected, ups[0]), (state, ups[1])))
    absent = key not in state or key not in expected  # a missing or an unexpected key
    if ups[0] != ups[1] and (parts[0] == "conv_post" or (parts[0] == "ups" and absent)):
        return f"len(upsample_rates) is {ups[0]}, the weights have {ups[1]}"
    if parts[0] == "resblocks" and absent:
        block = ".".join(parts[:2])
        if kernels[0] != kernels[1]:
            return f"len(resblock_kernel_sizes) is {kernels[0]}, the weights have {kernels[1]}"
        (want_type, want_n), (got_type, got_n) = dilations(expected, block), dilations(state, block)
        if want_type != got_type:
            return (f"resblock is '{want_type}' (ResBlock{want_type}: {_BLOCK_LAYERS[want_type]}), the weights are "
                    f"ResBlock{got_type}'s ({_BLOCK_LAYERS[got_type]})")
        if want_n == got_n:  # every layer the config's dilations build is there: a tensor of one is missing
            return None
        return (f"resblock_dilation_sizes[{int(parts[1]) % kernels[0]}] has {want_n} dilations, the weights "
                f"{got_n}")
    if absent:
        return None
    got, want = tuple(state[key].shape), tuple(expected[key].shape)
    if len(got) != len(want):
        return None
    dim = next(i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
    weight = len(want) == 3 and want[1:] != (1, 1)  # not a bias, not a weight norm's magnitude (out, 1, 1)
    if parts[0] == "conv_pre":
        if weight and dim == 1:
            return f"num_mels is {want[1]}, the weights take {got[1]}"
        if dim == 0:
            return f"upsample_initial_channel is {want[0]}, the weights take {got[0]}"
    if parts[0] == "ups" and weight and dim == 2:
        return f"upsample_kernel_sizes[{parts[1]}] is {want[2]}, the weights take {got[2]}"
    if parts[0] == "resblocks":
        if weight and dim == 2:
            return (f"resblock_kernel_sizes[{int(parts[1]) % kernels[0]}] is {want[2]}, the weights take "
                    f"{got[2]}")
        if kernels[0] != kernels[1]:
            return f"len(resblock_kernel_sizes) is {kernels[0]}, the weights have {kernels[1]}"
    return None
