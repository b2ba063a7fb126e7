"""Under torchrun every rank trains on rank 0's scan, so a rank whose corpus listing differs from rank 0's (another
file, a missing one, another size) stops naming the first differing file; the same files under another mount point
pass. Two real gloo ranks (torchrun, CPU) call `shared_facts` on their own corpus folders."""

from __future__ import annotations

import json

from tests.support.torchrun import torchrun_two

# rank 0's files, rank 1's files (name -> size in bytes); each rank's corpus is in its own folder (its mount point)
CASES = {
    "same": ({"a.wav": 10, "s/b.wav": 20}, {"a.wav": 10, "s/b.wav": 20}),
    "other": ({"a.wav": 10, "s/b.wav": 20}, {"a.wav": 10, "s/c.wav": 20}),
    "size": ({"a.wav": 10, "s/b.wav": 20}, {"a.wav": 10, "s/b.wav": 21}),
    "fewer": ({"a.wav": 10, "b.wav": 20, "d.wav": 5}, {"a.wav": 10, "d.wav": 5}),
}

SCRIPT = """
import json, os, sys, torch.distributed as d
from pathlib import Path
from hifigan.config import load_config
from hifigan.errors import HifiganError
from hifigan.training.data_parallel import DistInfo, end_worker_process
from hifigan.training.job import shared_facts
d.init_process_group('gloo')
rank = int(os.environ['RANK'])
base, cases = Path(sys.argv[1]), json.loads(sys.argv[2])
dist, config = DistInfo(rank, 2, rank, True), load_config('v1')
said = {}
for name, listings in cases.items():
    root = base / f'r{rank}' / name
    for rel, size in listings[rank].items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b'x' * size)
    files = sorted(root / rel for rel in listings[rank])
    data = {'resample': False, 'mix_to_mono': False}
    try:
        facts = shared_facts(files, config, data, base / f'out{rank}', dist, False, root)
        said[name] = [int(s) for s in facts.rows['size']]
    except HifiganError as e:
        said[name] = str(e)
(base / f'rank{rank}.json').write_text(json.dumps(said))
end_worker_process(0)
"""


def test_a_rank_whose_listing_differs_from_rank_zeros_stops_naming_the_file(tmp_path):
    script = tmp_path / "listing.py"
    script.write_text(SCRIPT)
    done = torchrun_two(script, tmp_path, json.dumps(CASES))
    assert done.returncode == 0, done.stderr[-3000:]
    main, other = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert main == {"same": [10, 20], "other": [10, 20], "size": [10, 20], "fewer": [10, 20, 5]}
    assert other["same"] == [10, 20]  # the same names below another mount point: rank 0's rows
    one = tmp_path / "r1"
    assert other["other"].startswith(f"{one / 'other' / 's' / 'c.wav'}: is listed on rank 1 but not on rank 0 ")
    assert other["size"].startswith(f"{one / 'size' / 's' / 'b.wav'}: is 21 bytes on rank 1, 20 on rank 0 ")
    assert other["fewer"].startswith("rank 1 lacks 1 of rank 0's 3 files (the first after a.wav): ")
    assert all("every node needs the same corpus" in other[k] for k in ("other", "size", "fewer"))
