"""Tiny model configs so tests run real computation in milliseconds."""

from hifigan.config import HifiganConfig, config_from_dict


def tiny_config(resblock: str = "2", **overrides) -> HifiganConfig:
    """A 2-stage generator (hop 16) on 16 mel bins; same code paths as the official configs."""
    values = dict(
        resblock=resblock, upsample_rates=[4, 4], upsample_kernel_sizes=[8, 8], upsample_initial_channel=32,
        resblock_kernel_sizes=[3, 5], resblock_dilation_sizes=[[1, 2], [2, 3]] if resblock == "2" else [[1, 3], [1, 3]],
        hop_size=16, n_fft=64, win_size=64, num_mels=16, sampling_rate=8000, fmax=None, segment_size=512,
        batch_size=2, num_workers=0,
    )
    values.update(overrides)
    return config_from_dict(values)
