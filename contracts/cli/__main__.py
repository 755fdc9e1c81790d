"""`python -m contracts.cli`: the same as the `otacm` command."""

import sys

from contracts.cli import main

sys.exit(main())
