"""`python -m faircause_core ...` runs the command line."""

import sys

from faircause_core.cli import main

if __name__ == "__main__":
    sys.exit(main())
