"""The system configuration: upstream PRTOS ``system.xml`` loaded into an immutable, checked model.

The names below are loaded on first use (PEP 562), not when the package is imported: importing
a light submodule such as ``prtosd.config.units`` (``prtosd start`` parses ``--until`` with it)
must not import the loader, lxml and the model, which ``prtosd start`` wants to import only after
it has launched the partition fork server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prtosd.config.diagnostics import ConfigError, Diagnostic
    from prtosd.config.loader import load_system
    from prtosd.config.model import PD_NS, PRTOS_NS, System

__all__ = ["PD_NS", "PRTOS_NS", "ConfigError", "Diagnostic", "System", "load_system"]

_HOME = {
    "ConfigError": "diagnostics", "Diagnostic": "diagnostics", "load_system": "loader",
    "PD_NS": "model", "PRTOS_NS": "model", "System": "model",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later look-ups find it directly
    return value
