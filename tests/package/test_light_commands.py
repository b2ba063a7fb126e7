"""Commands that need no model start without torch (~1.5 s of import a run): `hifigan --help`, and `hifigan
check-mel`, which judges .npy mels with numpy alone, as a CI step checking each batch of mels runs it. Each is run in
a fresh interpreter, which then reports whether torch was imported."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import soundfile as sf

from hifigan.cli import main

CHILD = r"""
import contextlib, io, json, sys
from hifigan.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            rc = main(argv)
        except SystemExit as e:
            rc = e.code
    results.append({"rc": rc, "out": out.getvalue(), "torch": "torch" in sys.modules})
print(json.dumps(results))
"""


def test_help_and_check_mel_do_not_import_torch(tmp_path, capsys):
    t = np.arange(8000) / 22050
    sf.write(tmp_path / "a.wav", 0.3 * np.sin(2 * np.pi * 220 * t), 22050)
    assert main(["mel", "--quiet", "--out", str(tmp_path / "mels"), str(tmp_path / "a.wav")]) == 0  # official mel
    capsys.readouterr()
    mel = tmp_path / "mels" / "a.npy"
    commands = [["--help"], ["check-mel", "--help"], ["check-mel", str(mel)], ["check-mel", str(tmp_path / "mels")]]
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(commands)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout.splitlines()[-1])
    assert [r["rc"] for r in results] == [0, 0, 0, 0]
    assert results[2]["out"].startswith(f"{mel}: fits the model's mel (official, 22050 Hz, hop 256)")
    assert [r["torch"] for r in results] == [False, False, False, False]
