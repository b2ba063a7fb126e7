"""Run by tests/training/test_ddp_said_once.py under torchrun: `hifigan train ARGS...` as the command line runs it
(hifigan.cli.main), each `{rank}` in ARGS replaced by the process's rank, so that the ranks can be given what
different nodes would see (a folder only one of them holds).

usage: torchrun --nproc_per_node N tests/support/ddp_rank_args_worker.py ARGS...
"""

from __future__ import annotations

import os
import sys

from hifigan.cli import main

sys.exit(main([arg.replace("{rank}", os.environ["RANK"]) for arg in sys.argv[1:]]))
