"""`python -m samplevis.cli`: the `samplevis` command, run by this Python."""

import sys

from samplevis.cli.command_line import main

sys.exit(main())
