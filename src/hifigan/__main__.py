"""`python -m hifigan` and the `hifigan` script run the CLI (also the entry point for `torchrun -m hifigan` and
`torchrun $(which hifigan)`)."""

import sys

from hifigan.runtime.torchrun_start import hold_sigterm_at_start


def run() -> int:
    """The CLI, with torchrun's SIGTERM held from before its imports (a rank that refuses silently may end while
    this one imports: hifigan.runtime.torchrun_start)."""
    hold_sigterm_at_start()
    from hifigan.cli import main

    return main()


if __name__ == "__main__":
    sys.exit(run())
