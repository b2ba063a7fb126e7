"""The library of `hifigan listen`: create or continue a study and serve it (waitress, a production WSGI server), or
report it."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from hifigan.config.values import integer_problem, number_problem
from hifigan.errors import HifiganError
from hifigan.evaluation.listening.store import Store
from hifigan.runtime.extras import optional_import
from hifigan.runtime.sockets import bind, browser_url
from hifigan.serve.limits import DEFAULT_HOST, DEFAULT_PORT

SERVER_PACKAGES = ("flask", "waitress")  # the web app and its server: the 'listen' extra (--report needs neither)


def serve(store: Store, sock: socket.socket, host: str, threads: int = 8, screen: float | None = None) -> None:
    """Serve the study on a bound socket (`bind`) until interrupted; prints the raters' URL and the results URL
    first."""
    from hifigan.evaluation.listening.app import create_app
    from hifigan.evaluation.listening.study import rates_text, stimulus_rates

    create_server = optional_import("waitress.server", "hifigan listen's server").create_server

    server = create_server(create_app(store, screen), sockets=[sock], threads=threads, ident="hifigan-listen")
    url, everywhere = browser_url(host, sock.getsockname()[1])
    note = f"(listening {everywhere})\n" if everywhere else ""
    print(f"{start_lines(store)}\nstimuli: {rates_text(stimulus_rates(store))}\nraters: {url}/\n"
          f"results: {url}/results?key={store.meta('admin_key')}\n{note}"
          "(Ctrl-C stops the server; every rating is already saved)", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        print("hifigan listen: stopped", file=sys.stderr)
    finally:
        server.close()


def start_lines(store: Store) -> str:
    """The server's first lines: the trials, the systems, the study, and with --subset the clips' share of the
    recordings (as `hifigan evaluate --subset` says it)."""
    from hifigan.evaluation.pairing import subset_note

    line = (f"hifigan listen: {store.trial_count()} trials ({len(store.systems())} systems incl. the hidden "
            f"reference) from {store.path.parent}")
    recordings = store.subset_of()
    return line if recordings is None else f"{line}\nclips: {subset_note(store.clip_count(), recordings)}"


def check_screen(screen: float | None) -> None:
    """A reference screen (raters whose mean score of the hidden reference is below it are left out) is a score."""
    if screen is not None and (problem := number_problem(screen, 1, 5)) is not None:
        raise HifiganError(None, f"--screen-reference-below {problem}")


def report_study(study: str | os.PathLike, screen: float | None = None) -> tuple[str, Path, Path]:
    """The MOS with 95% CIs per system of a study folder: the Markdown table, and the files written beside the
    study (STUDY/mos.md and STUDY/mos.json). `screen`: leave out raters whose mean reference score is below it."""
    from hifigan.evaluation.listening.mos import markdown, mos_report, write_report
    from hifigan.evaluation.listening.study import open_study

    check_screen(screen)
    store = open_study(study)
    report = mos_report(store.ratings(), store.systems(), screen)
    md, js = write_report(Path(study), report)
    return markdown(report), md, js


def serve_study(out: str | os.PathLike, reference: str | os.PathLike | None = None,
                systems: dict[str, Path] | None = None, seed: int | None = None, host: str = DEFAULT_HOST,
                port: int = DEFAULT_PORT, threads: int = 8, screen: float | None = None,
                subset: bool | None = None) -> None:
    """Create the study `out` (from the recordings in `reference` and `systems`: name -> folder; `subset`: only the
    recordings of the stems the systems hold, a choice the study keeps: None, its own), or continue it when it
    exists, and serve it until interrupted (`hifigan listen`)."""
    from hifigan.evaluation.listening.study import study_for

    check_screen(screen)
    if (problem := integer_problem(threads, 1)) is not None:
        raise HifiganError(None, f"--server-threads {problem}")
    for module in SERVER_PACKAGES:  # before a study folder is made
        optional_import(module, "serving a listening test")
    if systems and reference is None:
        raise HifiganError(None, "--system needs --reference (the recordings, rated as a hidden reference)")
    if subset and reference is None:
        raise HifiganError(None, "--subset goes with --reference and --system (it chooses which recordings a study "
                                 "rates)")
    bound: list[socket.socket] = []
    try:  # the port is bound once the inputs have passed: a used or bad address leaves no study folder
        store = study_for(out, reference, systems or {}, seed, ready=lambda: bound.append(bind(host, port)),
                          subset=subset)
    except BaseException:
        for sock in bound:
            sock.close()
        raise
    serve(store, bound[0], host, threads, screen)
