"""Multi-node training as torch does it: `torchrun --nnodes 2 --nproc_per_node 1` with a c10d rendezvous on
loopback, two "nodes" on this machine (gloo), trains what one process trains on the same global batch; the node
that gets rank 0 alone scans the corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.ddp_compare import COMMON, WORKER, assert_trained_alike, latest, train_in_one_process
from tests.support.marks import LARGE_MEMORY
from tests.support.torchrun import free_port

# Two node processes and their launchers beside the worker: never beside another large_memory test.
pytestmark = LARGE_MEMORY


def test_two_nodes_train_what_one_process_trains(tmp_path, tiny_corpus, tiny_config_json):
    data = ["--corpus", str(tiny_corpus), "--config", str(tiny_config_json)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    node = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc_per_node", "1",
            "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{free_port()}", "--rdzv-id", "hifigan-test",
            "--local-addr", "127.0.0.1", str(WORKER), str(tmp_path / "seen"), *data, *COMMON, "--batch-size", "2",
            "--out", str(tmp_path / "two")]
    nodes = [subprocess.Popen(node, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=300)[0] for p in nodes]
    assert [p.returncode for p in nodes] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    train_in_one_process(data, tmp_path)
    assert_trained_alike(latest(tmp_path / "two"), latest(tmp_path / "one"), latest(tmp_path / "init"), world_size=2)
    ranks = [json.loads((tmp_path / "seen" / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["files_read"] for r in ranks] == [8, 0]
    assert not set(ranks[0]["steps"][0]) & set(ranks[1]["steps"][0])  # each node its own shard
