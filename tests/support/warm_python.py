"""A warm interpreter for running many short commands: one server process imports torch, librosa and hifigan once,
then forks a child per request (`hifigan ARGS`, `python -c CODE ARGS`, `python - ARGS` or `python FILE.py ARGS`)
that takes the caller's arguments, folder, environment and standard streams, runs what the console script runs
(`hifigan.cli.main(argv)`, or the code, read from stdin or the file, as `__main__`) and reports its exit status.
The docs test runs ~50 commands this way instead of paying ~3 s of imports for each.

Serve: `python -m tests.support.warm_python SOCKET` (prints "ready" once listening). Ask: `python -S CLIENT SOCKET
hifigan ARGS...` with CLIENT the file of `CLIENT_CODE`; `shims(folder, socket)` writes `hifigan` and `python`
scripts that do this.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import traceback
from pathlib import Path

# The client: connect, pass the three standard streams and the request, exit with the child's status.
CLIENT_CODE = """import json, os, socket, sys
path, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
conn = socket.socket(socket.AF_UNIX)
conn.connect(path)
request = json.dumps({"mode": mode, "args": args, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
socket.send_fds(conn, [len(request).to_bytes(8, "big")], [0, 1, 2])
conn.sendall(request)
status = conn.recv(16)
sys.exit(int(status) if status else 1)  # no answer: the child died (killed by a signal)
"""

# What the commands import, down to the lazily loaded parts (librosa's submodules, the dynamo ONNX exporter's,
# matplotlib's renderer, the metrics' packages): a module a child imports costs every child that needs it.
PRELOAD = ("torch", "numpy", "scipy.signal", "librosa", "soundfile", "soxr", "hifigan.cli", "hifigan.inference",
           "hifigan.training.job", "hifigan.evaluation.metrics", "hifigan.evaluation.evaluate", "hifigan.models",
           "librosa.core", "librosa.filters", "torch._dynamo", "torch.onnx", "onnx", "onnxruntime", "onnxscript",
           "networkx", "matplotlib.figure", "matplotlib.backends.backend_agg", "torch.utils.tensorboard", "pesq",
           "pystoi", "jinja2", "cffi")


def shims(folder: Path, server_socket: Path) -> None:
    """`folder/hifigan` and `folder/python` (`python -c`, `python -` and `python FILE.py` go to the server; any other
    option runs a cold python)."""
    client = folder / "warm_client.py"
    client.write_text(CLIENT_CODE)
    ask = f'"{sys.executable}" -S "{client}" "{server_socket}"'
    scripts = {"hifigan": f'exec {ask} hifigan "$@"\n',
               "python": f'case "$1" in -c|-|*.py) exec {ask} python "$@";; esac\nexec "{sys.executable}" "$@"\n'}
    for name, body in scripts.items():
        (folder / name).write_text("#!/bin/sh\n" + body)
        (folder / name).chmod(0o755)


def run_request(conn: socket.socket) -> int:
    """In the forked child: take over the caller's streams, folder and environment, run the request."""
    header, fds, _, _ = socket.recv_fds(conn, 8, 3)
    size, data = int.from_bytes(header, "big"), b""
    while len(data) < size:
        data += conn.recv(size - len(data))
    request = json.loads(data)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    args = request["args"]
    try:
        if request["mode"] == "hifigan":
            from hifigan.cli import main

            sys.argv = ["hifigan", *args]
            return int(main(args) or 0)
        namespace = {"__name__": "__main__", "__builtins__": __builtins__}
        if args[0] == "-c":  # python -c CODE ARGS: the folder first on the path
            sys.argv, sys.path[0], code, name = ["-c", *args[2:]], "", args[1], "<string>"
        elif args[0] == "-":  # python - ARGS: the code from stdin (a heredoc)
            sys.argv, sys.path[0], code, name = args, "", sys.stdin.read(), "<stdin>"
        else:  # python FILE.py ARGS: the file's folder first on the path, as python puts it
            path = os.path.abspath(args[0])
            sys.argv, sys.path[0], code, name = args, os.path.dirname(path), Path(path).read_text(), path
            namespace["__file__"] = path
        exec(compile(code, name, "exec"), namespace)
        return 0
    except SystemExit as e:
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
        return e.code if isinstance(e.code, int) else int(e.code is not None)
    except BaseException:
        traceback.print_exc()
        return 1


def serve(path: str) -> None:
    """Import PRELOAD, then fork one child per connection until killed."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    import librosa
    import numpy

    librosa.pyin(numpy.zeros(4096), fmin=65, fmax=1000, sr=22050)  # numba's first dispatch (~1 s), once for all
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen(64)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        sys.stdout.flush()
        sys.stderr.flush()
        if os.fork() == 0:
            server.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the child's own subprocesses must be waitable
            status = 1
            try:
                status = run_request(conn)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                conn.sendall(str(status).encode())
                os._exit(status)
        conn.close()


if __name__ == "__main__":
    serve(sys.argv[1])
