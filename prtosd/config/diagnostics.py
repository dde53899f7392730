"""Errors and warnings of the configuration loader, in the ``<file>:<line>: <message>`` form."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Diagnostic:
    file: str
    line: int
    message: str
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {kind}{self.message}"


class ConfigError(Exception):
    """The configuration is invalid; ``errors`` holds every error found, in document order."""

    def __init__(self, errors: list[Diagnostic], warnings: list[Diagnostic] | None = None):
        self.errors = sorted(errors, key=lambda d: d.line)
        self.warnings = sorted(warnings or [], key=lambda d: d.line)
        super().__init__("\n".join(str(e) for e in self.errors))
