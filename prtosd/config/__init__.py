"""The system configuration: upstream PRTOS ``system.xml`` loaded into an immutable, checked model."""

from prtosd.config.diagnostics import ConfigError, Diagnostic
from prtosd.config.loader import load_system
from prtosd.config.model import PD_NS, PRTOS_NS, System

__all__ = ["PD_NS", "PRTOS_NS", "ConfigError", "Diagnostic", "System", "load_system"]
