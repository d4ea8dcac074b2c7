"""`python -m samplevis.cli`: the `samplevis` command, run by this Python."""

from samplevis.cli.process import run

run()
