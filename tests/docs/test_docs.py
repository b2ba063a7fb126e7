"""The manual runs: every fenced block of README.md and docs/*.md says whether a test runs it, the runnable ones exit
0 in a fresh folder, and `make docs` builds the site with mkdocs in strict mode.

Markers (the line right above the fence, exactly one): `<!-- test: run -->` runs the block as written;
`<!-- test: run tiny -->` runs it with TINY's stand-ins (see `tiny`); `<!-- test: gpu -->` needs a CUDA GPU and
`<!-- test: long -->` takes minutes or more (full training, the demo, full-size benchmarks, a server): neither runs
here. Every ```bash and ```python block needs one; shell code under another name (```sh, ```console, an unnamed
fence) is refused, and so is a `$ command` transcript in a ```text block, so that no command escapes the check.
A bash block runs under `set -euo pipefail`; a command that must fail is written `! command` as the block's last
line (bash -e ignores `!` anywhere else).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tokenize
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import torch

from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.checkpoints.official import official_generator_dict
from hifigan.models import Generator
from tests.support.files import CORPUS, REPO, SHORTEST_CLIPS, save_config_json
from tests.support.tiny import tiny_config
from tests.support.warm_python import shims

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
MARKERS = ("run", "run tiny", "gpu", "long")
MARKED_LANGUAGES = ("bash", "python")
REFUSED_LANGUAGES = ("", "sh", "shell", "console", "zsh", "shell-session")
MARKER = re.compile(r"^<!-- test: (.*?) -->$")
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
LAST_LINE_ONLY = "`! command` (must fail) only as the last line: bash -e ignores it elsewhere"
TIMEOUT_S = 150
WORKERS = 2  # blocks run two at a time (the 2-core test machine); each with one torch thread

# The stand-ins of a `run tiny` block, said once here (and in a note on each page that has such blocks):
# - every `--config VALUE` (and Python `config="VALUE"`) becomes the tiny config `tiny.json`: V1's signal settings
#   (22050 Hz, hop 256, 80 mel bins) with a 32-channel 2-stage generator (x16 x16) and narrow discriminators
#   (tests/support/tiny.py); its hop is V1's so that the pitch metrics cost what they cost on V1;
# - every `--max-steps N`, `--max-minutes N` or `--epochs N` becomes `--max-steps 2`;
# - `data/ljspeech-mini` holds the 4 shortest bundled clips; `g_02500000` is an official-format file of a random tiny
#   generator; `runs/demo/` is a finished demo's layout: `run/checkpoints/latest.pt` (a tiny generator) and
#   `reference/`, `start/`, `generated/` (the 4 clips).
TINY_SIGNAL = dict(sampling_rate=22050, hop_size=256, n_fft=1024, win_size=1024, num_mels=80, fmax=8000,
                   upsample_rates=[16, 16], upsample_kernel_sizes=[32, 32], segment_size=4096)


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its marker (None without one) and its text."""

    page: str
    line: int
    language: str
    marker: str | None
    text: str

    @property
    def name(self) -> str:
        return f"{self.page}:{self.line}"


def read_blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown page, with the marker on the line above its opening fence."""
    lines = path.read_text().splitlines()
    path = path.resolve()
    page = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.name
    blocks, i = [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, language = opening.groups()
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), None)
        assert end is not None, f"{page}:{i + 1}: a fence that is never closed"
        above = lines[i - 1].strip() if i else ""
        found = MARKER.match(above)
        body = "\n".join(line[len(indent):] for line in lines[i + 1:end])
        blocks.append(Block(page, i + 1, language, found.group(1) if found else None, body + "\n"))
        i = end + 1
    return blocks


def marker_problems(path: Path) -> list[str]:
    """What is wrong with a page's markers: a runnable language without one, an unknown one, two in a row, shell code
    under a name that is not `bash`, a marker on a block that is not code."""
    problems = []
    lines = path.read_text().splitlines()
    for block in read_blocks(path):
        if block.language in REFUSED_LANGUAGES:
            problems.append(f"{block.name}: fence ```{block.language}: write ```bash (marked) or ```text")
        elif block.language in MARKED_LANGUAGES and block.marker is None:
            problems.append(f"{block.name}: ```{block.language} block without a `<!-- test: ... -->` marker")
        elif block.marker is not None and block.marker not in MARKERS:
            problems.append(f"{block.name}: unknown marker {block.marker!r} (one of {', '.join(MARKERS)})")
        elif block.marker is not None and block.language not in MARKED_LANGUAGES:
            problems.append(f"{block.name}: a marker on a ```{block.language} block, which nothing runs")
        elif block.line >= 3 and MARKER.match(lines[block.line - 3].strip()):
            problems.append(f"{block.name}: two marker lines; exactly one")
        elif block.language != "bash" and any(line.startswith("$ ") for line in block.text.splitlines()):
            problems.append(f"{block.name}: a `$ command` transcript: put the commands in a marked ```bash block")
        elif block.language == "bash" and any(line.startswith("! ") for line in code_lines(block)[:-1]):
            problems.append(f"{block.name}: {LAST_LINE_ONLY}")
    return problems


def code_lines(block: Block) -> list[str]:
    """The block's lines that are not blank or comments."""
    return [line for line in block.text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def runnable() -> list[Block]:
    return [b for page in PAGES for b in read_blocks(page) if b.marker in ("run", "run tiny")]


def tiny(text: str) -> str:
    """A block's text with TINY's stand-ins."""
    text = re.sub(r"--config[ =]\S+", "--config tiny.json", text)
    text = re.sub(r"--(max-steps|max-minutes|epochs)[ =]\S+", "--max-steps 2", text)
    return re.sub(r"""\bconfig=(["'])[^"']*\1""", 'config="tiny.json"', text)


def make_template(root: Path, small: bool) -> Path:
    """A folder as a fresh clone looks to the commands (`hifigan`, `.venv/bin/hifigan` and `python -c` running this
    tree's code in the warm server's children, the bundled corpus), with TINY's stand-ins when `small`."""
    folder = root / ("tiny" if small else "full")
    (folder / ".venv" / "bin").mkdir(parents=True)
    for name in ("hifigan", "python"):
        (folder / ".venv" / "bin" / name).symlink_to(root / "bin" / name)
    if not small:
        (folder / "data").symlink_to(REPO / "data")
        return folder
    corpus = folder / "data" / "ljspeech-mini"
    for sub in (corpus, *(folder / "runs" / "demo" / s for s in ("reference", "start", "generated"))):
        sub.mkdir(parents=True)
        for clip in SHORTEST_CLIPS:
            (sub / f"{clip}.wav").symlink_to(CORPUS / f"{clip}.wav")
    config = tiny_config(**TINY_SIGNAL)
    save_config_json(folder / "tiny.json", config)
    torch.manual_seed(0)
    generator = Generator(config).state_dict()
    run = folder / "runs" / "demo" / "run" / "checkpoints"
    run.mkdir(parents=True)
    write_checkpoint(run / "latest.pt", generator_payload(generator, config))
    torch.save(official_generator_dict(generator), folder / "g_02500000")
    return folder


@contextmanager
def warm_server(root: Path, env: dict[str, str]):
    """tests/support/warm_python.py serving in `root` (imports once; each command a fork), with shims in root/bin."""
    (root / "bin").mkdir()
    path = root / "warm.sock"
    shims(root / "bin", path)
    server = subprocess.Popen([sys.executable, "-m", "tests.support.warm_python", str(path)], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert server.stdout.readline().strip() == "ready", "the warm server did not start"
        yield
    finally:
        os.killpg(server.pid, signal.SIGKILL)  # the server and any child still running (a block that timed out)
        server.wait()


def program(block: Block) -> tuple:
    """What running the block runs: its marker, language and code, a Python block's without its comments (its
    tokens), so that two pages' copies that differ only in comments are one program; a bash block's text whole."""
    if block.language != "python":
        return block.marker, block.language, block.text
    tokens = tokenize.generate_tokens(io.StringIO(block.text).readline)
    return block.marker, block.language, tuple((t.type, t.string) for t in tokens
                                               if t.type not in (tokenize.COMMENT, tokenize.NL))


@cache
def run_all(root: Path) -> dict[str, subprocess.CompletedProcess | str]:
    """Run every runnable block, each in a copy of its template, WORKERS at a time; name -> result (or the timeout).
    A program that appears on several pages (the README repeats a page's example, comments aside) runs once."""
    path = os.pathsep.join([str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    blocks = runnable()
    first: dict[tuple, Block] = {}  # each program, and the first block that is it
    for block in blocks:
        first.setdefault(program(block), block)
    programs, unique = list(first), list(first.values())

    def run(index: int) -> subprocess.CompletedProcess | str:
        marker, language, text = unique[index].marker, unique[index].language, unique[index].text
        small = marker == "run tiny"
        folder = root / f"block{index:03d}"
        shutil.copytree(templates[small], folder, symlinks=True)
        env_here = {**env, "PATH": f"{folder / '.venv' / 'bin'}{os.pathsep}{env['PATH']}"}
        text = tiny(text) if small else text
        python = str(folder / ".venv" / "bin" / "python")
        argv = ["bash", "-euo", "pipefail", "-c", text] if language == "bash" else [python, "-c", text]
        try:
            return subprocess.run(argv, cwd=folder, env=env_here, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return f"timed out after {TIMEOUT_S} s"

    with warm_server(root, env):
        templates = {small: make_template(root, small) for small in (False, True)}
        with ThreadPoolExecutor(WORKERS) as pool:
            results = list(pool.map(run, range(len(unique))))
    return {b.name: results[programs.index(program(b))] for b in blocks}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, subprocess.CompletedProcess | str]:
    return run_all(tmp_path_factory.mktemp("docs"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_code_block_is_marked(page):
    assert marker_problems(page) == []


def test_the_marker_check_catches_what_it_should(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- test: run -->\n```bash\nhifigan configs\n```\n\n```bash\nhifigan pretrained\n```\n"
                    "```sh\nls\n```\n<!-- test: run -->\n<!-- test: gpu -->\n```bash\nnvidia-smi\n```\n"
                    "<!-- test: soon -->\n```python\npass\n```\n<!-- test: run -->\n```yaml\na: 1\n```\n"
                    "<!-- test: run -->\n```bash\n! false\ntrue\n```\n"
                    "<!-- test: run -->\n```bash\ntrue\n! false\n```\n```text\n$ hifigan mel a.wav a.npy\n```\n")
    problems = [p.split(": ", 1)[1] for p in marker_problems(page)]
    assert problems == ["```bash block without a `<!-- test: ... -->` marker",
                        "fence ```sh: write ```bash (marked) or ```text", "two marker lines; exactly one",
                        "unknown marker 'soon' (one of run, run tiny, gpu, long)",
                        "a marker on a ```yaml block, which nothing runs",
                        LAST_LINE_ONLY, "a `$ command` transcript: put the commands in a marked ```bash block"]


def test_tiny_stand_ins():
    assert tiny("hifigan train --config v3 --out r --max-minutes 30\nhifigan train --config=my.yaml --epochs 5\n") == (
        "hifigan train --config tiny.json --out r --max-steps 2\nhifigan train --config tiny.json --max-steps 2\n")
    assert tiny('Vocoder.from_checkpoint("g_02500000", config="v1")\n') == (
        'Vocoder.from_checkpoint("g_02500000", config="tiny.json")\n')


def test_copies_that_differ_only_in_comments_are_one_program():
    def block(text: str, language: str = "python") -> Block:
        return Block("page.md", 1, language, "run", text)

    one = program(block("x = 1  # one\n# a note\n\nprint(x)\n"))
    assert one == program(block("x = 1\nprint(x)  # two\n"))
    assert one != program(block("x = 2\nprint(x)\n"))
    assert program(block('s = "a # b"\n')) != program(block('s = "a # c"\n'))  # a string's '#' is no comment
    assert program(block("ls  # a\n", "bash")) != program(block("ls  # b\n", "bash"))  # a shell's text whole


@pytest.mark.parametrize("name", [b.name for b in runnable()])
def test_runnable_block_exits_zero(name, results):
    result = results[name]
    assert not isinstance(result, str), f"{name}: {result}"
    assert result.returncode == 0, f"{name}: exit {result.returncode}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"


def test_docs_site_builds_strict(tmp_path):
    """What `make docs` runs, into a temporary folder: a broken link, a page missing from disk or a bad config fails.
    Not --quiet: it hides the warnings from the strict count too, and a broken link then passed."""
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                             str(tmp_path / "site")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site" / "index.html").is_file() and (tmp_path / "site" / "training.html").is_file()
