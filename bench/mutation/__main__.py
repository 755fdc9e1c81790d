"""`python -m bench.mutation`: see bench/mutation/__init__.py."""

import sys

from bench.mutation.cli import main

sys.exit(main())
