"""Under torchrun every rank trains on rank 0's scan, so a rank whose corpus listing differs from rank 0's (another
file, a missing one, another size) stops naming the first differing file; the same files under another mount point
pass; a resumed run's held-out files are rank 0's on every rank (one moved since is followed by rank 0's inode,
which no other node's copy shares). Two real gloo ranks (fork_ranks: forked from pytest's process under `make test`,
CPU) call `shared_facts` and `held_out_of_run` on their own corpus folders, in one group."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import torch

from hifigan.config import load_config
from hifigan.data.corpus import Corpus
from hifigan.data.held_out_content import held_out_content
from hifigan.errors import HifiganError
from hifigan.training.data_parallel import DistInfo
from hifigan.training.job import held_out_of_run, shared_facts
from hifigan.training.refusals import refusals_agreed
from tests.support.torchrun import fork_ranks, free_port

# rank 0's files, rank 1's files (name -> size in bytes); each rank's corpus is in its own folder (its mount point)
CASES = {
    "same": ({"a.wav": 10, "s/b.wav": 20}, {"a.wav": 10, "s/b.wav": 20}),
    "other": ({"a.wav": 10, "s/b.wav": 20}, {"a.wav": 10, "s/c.wav": 20}),
    "size": ({"a.wav": 10, "s/b.wav": 20}, {"a.wav": 10, "s/b.wav": 21}),
    "fewer": ({"a.wav": 10, "b.wav": 20, "d.wav": 5}, {"a.wav": 10, "d.wav": 5}),
}

def rank_main(rank: int, base: Path, port: int) -> None:
    """One rank of the gloo group: `shared_facts` on each case's corpus folder of this rank, then `held_out_of_run` on
    a folder whose held-out file moved; what it returned or refused, to base/rank<r>.json."""
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2,
                                         timeout=timedelta(seconds=60))
    dist, config = DistInfo(rank, 2, rank, True), load_config("v1")
    said: dict = {}
    for name, listings in CASES.items():
        root = base / f"r{rank}" / name
        for rel, size in listings[rank].items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(b"x" * size)
        files = sorted(root / rel for rel in listings[rank])
        data = {"resample": False, "mix_to_mono": False}
        try:
            facts = shared_facts(files, config, data, base / f"out{rank}", dist, False, root)
            said[name] = [int(s) for s in facts.rows["size"]]
        except HifiganError as e:
            said[name] = str(e)
    # a held-out file moved on each node's own copy of the corpus: the checkpoint holds its inode on rank 0's copy
    root = base / f"r{rank}" / "held"
    root.mkdir(parents=True)
    for name in ("a.wav", "b.wav"):
        (root / name).write_bytes(name.encode() * 4)
    stored = [held_out_content([root / "a.wav"], ["a.wav"])]
    torch.distributed.broadcast_object_list(stored, src=0)
    (root / "a.wav").rename(root / "moved.wav")
    with refusals_agreed(dist) as agreement:
        run = {"data": {"held_out": ["a.wav"], "held_out_content": stored[0]}}
        said["held_out"] = held_out_of_run(run, Corpus(folder=root), 0, dist, agreement)
    (base / f"rank{rank}.json").write_text(json.dumps(said))
    torch.distributed.destroy_process_group()


@pytest.fixture(scope="module")
def said(tmp_path_factory):
    """What each rank of one launch said: (rank 0's, rank 1's), and the folder of their corpora."""
    base = tmp_path_factory.mktemp("ranks")
    fork_ranks(rank_main, base, free_port())
    return tuple(json.loads((base / f"rank{r}.json").read_text()) for r in (0, 1)), base


def test_a_rank_whose_listing_differs_from_rank_zeros_stops_naming_the_file(said):
    (main, other), tmp_path = said
    main = {k: v for k, v in main.items() if k in CASES}
    assert main == {"same": [10, 20], "other": [10, 20], "size": [10, 20], "fewer": [10, 20, 5]}
    assert other["same"] == [10, 20]  # the same names below another mount point: rank 0's rows
    one = tmp_path / "r1"
    assert other["other"].startswith(f"{one / 'other' / 's' / 'c.wav'}: is listed on rank 1 but not on rank 0 ")
    assert other["size"].startswith(f"{one / 'size' / 's' / 'b.wav'}: is 21 bytes on rank 1, 20 on rank 0 ")
    assert other["fewer"].startswith("rank 1 lacks 1 of rank 0's 3 files (the first after a.wav): ")
    assert all("every node needs the same corpus" in other[k] for k in ("other", "size", "fewer"))


def test_every_rank_holds_out_rank_zeros_files_of_a_resumed_run(said):
    """Rank 1's copy of the moved file has another inode than the one stored: deciding alone, it found `a.wav`
    gone and trained on `moved.wav`, which rank 0 held out."""
    (main, other), _ = said
    assert main["held_out"] == other["held_out"] == ["moved.wav"]
