"""What the data-parallel tests share: the training they run (2 steps of tests/support/tiny.py's model, both
training the discriminators), the worker torchrun starts, and the check that a multi-process run trained what one
process trains on the same global batch."""

from __future__ import annotations

from pathlib import Path

import torch

from hifigan.checkpoints.format import read_checkpoint
from tests.support.files import REPO
from tests.support.threads import threads

# 6 training clips: per step, 2 ranks x 2 clips or 1 process x 4 clips (the same 4: DistributedSampler deals
# one shuffled order round-robin), one step per epoch; both steps train the discriminators.
COMMON = ["--max-steps", "2", "--disc-start-step", "0", "--valid-count", "2", "--checkpoint-interval", "0",
          "--validation-interval", "0", "--log-interval", "1", "--no-progress"]
# Distances between the two runs, relative to how far training moved (weights) or to the size (Adam moments).
# Averaging gradients over 2 ranks differs from the 1-process gradient by float rounding: measured <= 1.1e-6
# with the official widths, <= 1.2e-6 with tests/support/tiny.py's (what runs here). Planted bugs measured, official
# widths: an unsynchronised MPD 0.44, MSD 0.15, summed gradients 0.035 (MPD weights); tiny widths: unsynchronised
# MPD 0.29, summed gradients 0.0065 (MPD weights) and 1.0 (the Adam moments).
MATCH = 1e-4
WORKER = REPO / "tests" / "support" / "ddp_worker.py"


def train_in_one_process(data: list[str], root: Path) -> None:
    """The reference runs beside a data-parallel one: root/one, the same training as one process with the whole global
    batch (4), and root/init, its initial state; on one thread, as the ranks run."""
    from hifigan.cli import main

    with threads(1):
        assert main(["train", *data, *COMMON, "--batch-size", "4", "--out", str(root / "one")]) == 0
        assert main(["train", *data, *COMMON, "--max-steps", "0", "--out", str(root / "init")]) == 0


def latest(run: Path) -> dict:
    return read_checkpoint(run / "checkpoints" / "latest.pt")


def distance(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    """Euclidean distance between two states with the same keys (all floating tensors together)."""
    assert a.keys() == b.keys()
    return sum(float(torch.linalg.vector_norm(a[k] - b[k])) ** 2 for k in a if a[k].is_floating_point()) ** 0.5


def moments(optim_state: dict, key: str) -> dict[str, torch.Tensor]:
    return {str(i): s[key] for i, s in optim_state["state"].items()}


def assert_trained_alike(many: dict, one: dict, init: dict, world_size: int) -> None:
    """Checkpoints `many` (a `world_size`-process run) and `one` (one process, the same global batch) hold the same
    weights, Adam moments and schedule, both moved from `init`, every parameter updated."""
    assert many["step"] == one["step"] == 2 and init["step"] == 0
    assert (many["world_size"], one["world_size"]) == (world_size, 1)
    for model in ("generator", "mpd", "msd"):
        moved = distance(one[model], init[model])
        assert moved > 0, f"{model} did not train"
        assert distance(many[model], one[model]) < MATCH * moved, model
        # (the spectral norm's power-iteration vectors are buffers; conv_post's is the 1-element vector [1])
        params = [k for k, v in init[model].items() if v.is_floating_point() and not k.endswith(("._u", "._v"))]
        unchanged = [k for k in params if torch.equal(one[model][k], init[model][k])]
        assert not unchanged, f"{model}: {unchanged[:3]} never updated"
    for optim in ("optim_g", "optim_d"):
        assert many[optim]["state"].keys() == one[optim]["state"].keys() and one[optim]["state"]
        for key in ("exp_avg", "exp_avg_sq"):
            a, b = moments(many[optim], key), moments(one[optim], key)
            size = sum(float(torch.linalg.vector_norm(v)) ** 2 for v in b.values()) ** 0.5
            assert distance(a, b) < MATCH * size, (optim, key)
        steps = {float(s["step"]) for s in many[optim]["state"].values()}
        assert steps == {float(s["step"]) for s in one[optim]["state"].values()} == {2.0}
        assert many[optim]["param_groups"][0]["lr"] == one[optim]["param_groups"][0]["lr"]
