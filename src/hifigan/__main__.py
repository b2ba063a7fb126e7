"""`python -m hifigan` runs the CLI (also the entry point for `torchrun -m hifigan`)."""

import sys

from hifigan.torchrun_start import hold_sigterm_at_start

if __name__ == "__main__":
    hold_sigterm_at_start()  # before the imports: a rank that refuses silently may end while this one imports
    from hifigan.cli import main

    sys.exit(main())
