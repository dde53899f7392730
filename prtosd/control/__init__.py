"""The control plane of a running system: commands, their error table and the ``ctl.sock`` endpoint
(and the optional CURVE TCP endpoint of ``--control``).

One module per command (a small class: wire message and CLI usage in its docstring, props
schema, ``execute(sup, props) -> dict``), registered in :data:`registry.COMMANDS` — the only
place to add one. :mod:`.server` serves them from the supervisor's loop; :mod:`prtosd.client`
and ``prtosctl`` (:mod:`prtosd.ctl`) are the clients.
"""

from prtosd.control.errors import CommandError, CtlErrno, exit_code
from prtosd.control.registry import COMMANDS

__all__ = ["COMMANDS", "CommandError", "CtlErrno", "exit_code"]
