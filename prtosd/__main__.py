"""The ``prtosd`` command (also ``python -m prtosd``).

Why a module of its own: ``prtosd start`` spends most of a short run starting up, and the
partitions' fork server (prtosd.spawner) imports for about as long as prtosd does. Launched here,
before the command line interface and everything it imports are loaded, the two start-ups
overlap from the beginning; the server learns the configuration once the command line is parsed.
"""

from __future__ import annotations

import sys


def main() -> None:
    early = sys.argv[1:2] == ["start"]
    if early:
        from prtosd.spawner import prelaunch

        prelaunch()
    from prtosd.cli import entry

    try:
        entry()
    finally:
        if early:  # the command stopped before a run took the server (usage error, --help, ...)
            from prtosd.spawner import discard_prestarted

            discard_prestarted()


if __name__ == "__main__":
    main()
