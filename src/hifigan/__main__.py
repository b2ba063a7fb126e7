"""`python -m hifigan` runs the CLI (also the entry point for `torchrun -m hifigan`)."""

import sys

from hifigan.cli import main

if __name__ == "__main__":
    sys.exit(main())
