"""The ``policygen`` command line: a thin typer layer over the library.

Each command parses its arguments, calls one library function and prints the result. This is
the one place where :class:`~policygen.errors.PolicygenError` becomes a message on stderr
(``path:line: message`` per problem) and exit code 1.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer

from . import __version__
from .errors import PolicygenError

app = typer.Typer(
    name="policygen",
    help="Compile structured, versioned policy sources into localized HTML.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
i18n_app = typer.Typer(help="Translation catalogs (gettext PO) for translators.", no_args_is_help=True)
app.add_typer(i18n_app, name="i18n")

F = TypeVar("F", bound=Callable[..., Any])

ProjectOption = Annotated[Path, typer.Option("--project", "-C", help="Project folder (holds policygen.yaml).", file_okay=False)]


def reports_errors(func: F) -> F:
    """Turn a PolicygenError into its messages on stderr and exit code 1: no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PolicygenError as exc:
            diagnostics = exc.diagnostics()
            if diagnostics:
                for diagnostic in diagnostics:
                    typer.echo(diagnostic.format(), err=True)
                count = len(diagnostics)
                typer.echo(f"policygen: {count} error{'s' if count != 1 else ''}", err=True)
            else:
                typer.echo(f"policygen: {exc}", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"policygen {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")] = None,
) -> None:
    """policygen compiles policy sources (facts + Markdown prose) into localized HTML."""


@app.command()
@reports_errors
def init(directory: Annotated[Path, typer.Argument(help="Folder to create the project in.")]) -> None:
    """Scaffold a project: policygen.yaml, a starter policy and its translations."""
    from .scaffold import init_project

    if not str(directory).strip():
        raise PolicygenError("give the folder to create the project in, for example: policygen init my-policies")
    created = init_project(directory)
    typer.echo(f"Created a policygen project in {directory} ({len(created)} files).")
    typer.echo(f"Next: policygen build -C {directory}")


@app.command()
@reports_errors
def build(
    project: ProjectOption = Path("."),
    policy: Annotated[Optional[list[str]], typer.Option("--policy", "-p", help="Build only this policy (repeatable).")] = None,
    locale: Annotated[Optional[list[str]], typer.Option("--locale", "-l", help="Build only this locale (repeatable).")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output folder (default: PROJECT/output).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success.")] = False,
) -> None:
    """Render every policy in every locale into the output folder, with manifest.json."""
    from .build import build as run_build

    result = run_build(project, policy, locale, output)
    if quiet:
        return
    typer.echo(
        f"Built {_count(result.pages, 'page')} into {result.output_dir}: {_count(len(result.written), 'file')} written, "
        f"{len(result.unchanged)} unchanged" + (f", {len(result.removed)} removed" if result.removed else "") + "."
    )
    for (policy_id, loc), count in sorted(result.untranslated.items()):
        typer.echo(f"note: {policy_id} [{loc}]: {_count(count, 'block')} not translated, shown in the source language", err=True)
    for (policy_id, loc), count in sorted(result.missing_labels.items()):
        typer.echo(f"note: {policy_id} [{loc}]: {_count(count, 'glossary label')} not translated, shown in the glossary's language", err=True)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@app.command()
@reports_errors
def check(project: ProjectOption = Path(".")) -> None:
    """Validate sources, catalogs and config without building. Reports every error found."""
    from .build import check as run_check

    loaded = run_check(project)
    count = len(loaded.policies)
    typer.echo(f"OK: {count} polic{'ies' if count != 1 else 'y'}, {len(loaded.config.locales)} locales, no errors.")


@app.command()
@reports_errors
def schema(
    name: Annotated[str, typer.Argument(help="policy, project or glossary.")] = "policy",
) -> None:
    """Print a JSON Schema, for editors that validate YAML while you type."""
    from .load import schema as load_schema

    if name not in ("policy", "project", "glossary"):
        raise PolicygenError(f"unknown schema '{name}'; choose policy, project or glossary")
    typer.echo(json.dumps(load_schema(name), indent=2, ensure_ascii=False))


@i18n_app.command("extract")
@reports_errors
def i18n_extract(project: ProjectOption = Path(".")) -> None:
    """Write the templates (.pot) and create every missing catalog (.po)."""
    from .catalogs import extract
    from .load import load_project

    written = extract(load_project(project))
    _report_written(written, project)


@i18n_app.command("update")
@reports_errors
def i18n_update(project: ProjectOption = Path(".")) -> None:
    """Refresh templates and merge them into every catalog (changed text becomes fuzzy)."""
    from .catalogs import update
    from .load import load_project

    written = update(load_project(project))
    _report_written(written, project)


def _report_written(written: list[Path], project: Path) -> None:
    from .errors import display_path

    if not written:
        typer.echo("Catalogs are up to date.")
    for path in written:
        typer.echo(f"wrote {display_path(path)}")


def run() -> None:
    """Console-script entry point."""
    app(prog_name="policygen")


if __name__ == "__main__":  # pragma: no cover
    run()
    sys.exit(0)
