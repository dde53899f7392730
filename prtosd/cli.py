"""``prtosd``: check, build and run PRTOS system descriptions.

Exit codes: 0 success; 2 invalid configuration or command line (click also uses 2 for usage
errors); 3 a build failed.
"""

from __future__ import annotations

import json
import sys

import click

from prtosd import __version__
from prtosd.config import ConfigError, load_system
from prtosd.config.serialize import system_to_json_data
from prtosd.config.summary import render

EXIT_CONFIG = 2
EXIT_BUILD = 3


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="prtosd")
def main() -> None:
    """Run PRTOS-style partitioned systems on an ordinary machine."""


@main.command()
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the checked model (or the errors) as JSON.")
def check(config: str, as_json: bool) -> None:
    """Validate CONFIG (a system.xml) and print a summary of the system.

    Prints every error as FILE:LINE: MESSAGE and exits 2 when the file is invalid.
    """
    try:
        system = load_system(config)
    except ConfigError as exc:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "ok": False,
                        "errors": [str(d) for d in exc.errors],
                        "warnings": [str(d) for d in exc.warnings],
                    },
                    indent=2,
                )
            )
        for d in sorted([*exc.warnings, *exc.errors], key=lambda d: d.line):
            click.echo(str(d), err=True)
        sys.exit(EXIT_CONFIG)
    for d in system.warnings:
        click.echo(str(d), err=True)
    if as_json:
        data = {"ok": True, "warnings": [str(d) for d in system.warnings], "system": system_to_json_data(system)}
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(render(system), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
