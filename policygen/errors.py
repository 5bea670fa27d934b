"""The one exception base, and diagnostics that point at a file and line.

Every user mistake is reported as ``path:line: message``. Loading stages collect *all* the
problems they find into a list of :class:`Diagnostic` and raise a single :class:`SourceError`,
so a person fixes every error in one round instead of one per run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    """One problem in one file."""

    path: Path
    """The file the problem is in."""
    line: int
    """1-based line number; 0 when the problem concerns the whole file."""
    message: str
    """What is wrong and how to fix it."""

    def format(self, relative_to: Path | None = None) -> str:
        """Render as ``path:line: message``, the form editors and CI logs link."""
        shown = display_path(self.path, relative_to)
        if self.line > 0:
            return f"{shown}:{self.line}: {self.message}"
        return f"{shown}: {self.message}"


def display_path(path: Path, relative_to: Path | None = None) -> str:
    """Show ``path`` relative to ``relative_to`` (default: the working directory) when inside it."""
    base = (relative_to or Path.cwd()).resolve()
    # Resolve the folder, not the file: a diagnostic about a symbolic link names the link.
    resolved = path.parent.resolve() / path.name if path.name not in ("", ".", "..") else path.resolve()
    try:
        return os.fspath(resolved.relative_to(base))
    except ValueError:
        return os.fspath(path)


class PolicygenError(Exception):
    """Base of every error policygen reports to a user. The CLI turns it into exit code 1."""

    def diagnostics(self) -> list[Diagnostic]:
        """The located problems behind this error (empty when it has no location)."""
        return []


class SourceError(PolicygenError):
    """One or more problems in the project's sources, catalogs or configuration."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self._diagnostics = sorted(set(diagnostics))
        super().__init__("\n".join(d.format() for d in self._diagnostics))

    def diagnostics(self) -> list[Diagnostic]:
        return list(self._diagnostics)

    def __reduce__(self) -> tuple[type[SourceError], tuple[list[Diagnostic]]]:
        # Errors cross process boundaries when PDFs render in parallel.
        return (type(self), (self._diagnostics,))


class TranslationsIncomplete(SourceError):
    """The sources are sound, but a published locale lacks translations (the publishing gate):
    every diagnostic is a missing or fuzzy block. ``--allow-incomplete`` builds anyway."""


class ProjectNotFound(PolicygenError):
    """The folder given as the project has no ``policygen.yaml``."""


class Collector:
    """Accumulates diagnostics across a stage; :meth:`raise_if_any` ends the stage."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def add(self, path: Path, line: int, message: str) -> None:
        self.items.append(Diagnostic(path, line, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise SourceError(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)
