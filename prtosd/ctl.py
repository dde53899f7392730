"""``prtosctl``: control a running prtosd system (status, partition and plan commands, logs)."""

from __future__ import annotations

import click

from prtosd import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="prtosctl")
def main() -> None:
    """Control a running prtosd system."""
