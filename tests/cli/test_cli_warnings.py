"""docs/commands.md: a warning is one line on stderr, `hifigan COMMAND: warning: ...` (hifigan.cli's formatwarning
hook). These run the command in a child process: pytest records the warnings of its own process, so stderr there
would not show them."""

from __future__ import annotations

import subprocess
import sys

from tests.support.cli_runs import SR, tone, wav
from tests.support.files import REPO

# A generator registered as config.generator "gain": the paper's layers with a forward of its own, which no engine
# runs (hifigan.models.layers), so `--backend auto` falls back to eager. It exists only in the child, so the child
# writes the checkpoint and then runs the command through hifigan.cli.main, as `python -m hifigan` does.
_GAIN_VOCODE = """
import sys

import torch

from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.cli import main
from hifigan.models import Generator
from hifigan.models.generators import register_generator
from tests.support.tiny import tiny_config


class GainGenerator(Generator):
    def forward(self, mel):
        return 0.5 * super().forward(mel)


register_generator("gain", GainGenerator)
cfg = tiny_config("1", generator="gain")
torch.manual_seed(0)
write_checkpoint(sys.argv[1], generator_payload(GainGenerator(cfg).state_dict(), cfg))
sys.exit(main(["vocode", "-c", sys.argv[1], *sys.argv[2:]]))
"""


def test_vocode_says_backend_auto_running_eager_as_a_one_line_warning(tmp_path):
    audio = wav(tmp_path / "a.wav", tone(SR // 4))
    proc = subprocess.run([sys.executable, "-c", _GAIN_VOCODE, str(tmp_path / "gain.pt"), "-o", str(tmp_path / "out"),
                           str(audio), "-q"], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == ["hifigan vocode: warning: backend auto: backend tiled-split does not implement "
                                        "GainGenerator.forward (the generator); running eager"]
    assert (tmp_path / "out" / "a.wav").is_file()
