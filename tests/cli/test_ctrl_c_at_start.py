"""Ctrl-C while `hifigan train` is still importing torch (its first seconds, longer on a loaded machine) is one line
and exit 130, as later: nothing imports torch again after it, which a cut import leaves half-registered (a second
`import torch` then fails with a traceback of torch's own)."""

from __future__ import annotations

import subprocess
import sys

# A child process that is interrupted (KeyboardInterrupt, what SIGINT raises) as `import torch` reaches torch._refs,
# after torch has registered its prims, then runs `hifigan train` as `python -m hifigan` does.
CUT_IMPORT = """
import sys

class CtrlC:
    fired = False

    def find_spec(self, name, path=None, target=None):
        if name == "torch._refs" and not CtrlC.fired:
            CtrlC.fired = True
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, CtrlC())
sys.argv = ["hifigan", "train", "--corpus", sys.argv[1], "--out", sys.argv[2]]
from hifigan.__main__ import run
sys.exit(run())
"""


def test_ctrl_c_while_torch_imports_is_one_line_and_exit_130(tmp_path):
    run = tmp_path / "run"
    # no corpus there: were the interruption missed, the run would end at once with exit 2, not 130
    done = subprocess.run([sys.executable, "-c", CUT_IMPORT, str(tmp_path / "wavs"), str(run)], capture_output=True,
                          text=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "hifigan train: interrupted\n")
    assert not run.exists()
