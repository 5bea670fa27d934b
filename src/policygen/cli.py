"""The ``policygen`` command line: a thin typer layer over the library.

Each command parses its arguments, calls one library function and prints the result. This is
the one place where :class:`~policygen.errors.PolicygenError` becomes a message on stderr
(``path:line: message`` per problem) and exit code 1.
"""

from __future__ import annotations

import functools
from datetime import date
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
archive_app = typer.Typer(help="The archive of released versions: list, verify, show.", no_args_is_help=True)
app.add_typer(archive_app, name="archive")

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
    allow_incomplete: Annotated[Optional[bool], typer.Option("--allow-incomplete/--no-allow-incomplete", help="Publish locales with missing or fuzzy translations (shown in the source language, with a notice). Default: the project's setting.")] = None,
    formats: Annotated[str, typer.Option("--format", "-f", help="Comma-separated: html, pdf.")] = "html,pdf",
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", help="PDFs to render at once (default: one per core).", min=1)] = None,
    today: Annotated[Optional[str], typer.Option("--today", help="Build as if it were this date (YYYY-MM-DD): which version is in force, which banner shows.")] = None,
) -> None:
    """Render every policy in every locale (HTML pages, PDFs) into the output folder, with manifest.json."""
    from .build import build as run_build

    when = _parse_date(today, "--today") if today is not None else None
    result = run_build(project, policy, locale, output, allow_incomplete, [f.strip() for f in formats.split(",") if f.strip()], jobs, when)
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
def check(
    project: ProjectOption = Path("."),
    allow_incomplete: Annotated[Optional[bool], typer.Option("--allow-incomplete/--no-allow-incomplete", help="Do not fail on missing or fuzzy translations.")] = None,
) -> None:
    """Validate sources, catalogs and config without building. Reports every error found."""
    from .build import check as run_check

    loaded = run_check(project, allow_incomplete)
    count = len(loaded.policies)
    typer.echo(f"OK: {count} polic{'ies' if count != 1 else 'y'}, {len(loaded.config.locales)} locales, no errors.")


SCHEMAS = ("policy", "project", "glossary", "rules", "change-report")
FAIL_EXIT = 3
"""Exit code of ``diff --fail-on`` when a change reaches the threshold (1 stays "an error")."""


@app.command()
@reports_errors
def diff(
    old: Annotated[str, typer.Argument(help="The old version: a project folder, or git:REV.")],
    new: Annotated[str, typer.Argument(help="The new version: a project folder, or git:REV.")],
    project: ProjectOption = Path("."),
    policy: Annotated[Optional[list[str]], typer.Option("--policy", "-p", help="Only this policy (repeatable).")] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="text or json (the change report, on stdout).")] = "text",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Also write report.json, redlines and notices for every locale here.")] = None,
    fail_on: Annotated[Optional[str], typer.Option("--fail-on", help="Exit with code 3 when a change is at least this severe: major, review or minor.")] = None,
) -> None:
    """Compare two versions: every change graded major/review/minor/editorial, with its reason."""
    from .classify import RANK
    from .report import checkout, compare, report_json, worst

    if output_format not in ("text", "json"):
        raise PolicygenError(f"unknown format '{output_format}'; choose text or json")
    if fail_on is not None and fail_on not in ("major", "review", "minor"):
        raise PolicygenError(f"--fail-on takes major, review or minor, not '{fail_on}'")
    with checkout(old, project) as (old_root, old_label), checkout(new, project) as (new_root, new_label):
        reports = compare(old_root, new_root, policy)
        data = report_json(reports, old_label, new_label)
        if output is not None:
            _write_diff_outputs(reports, data, output)
    if output_format == "json":
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))
    else:
        _diff_summary(data)
    severity = worst(reports)
    if fail_on is not None and severity is not None and RANK[severity] >= RANK[fail_on]:
        raise typer.Exit(FAIL_EXIT)


def _write_diff_outputs(reports: list, data: dict, output: Path) -> None:
    from .output import write_all
    from .report import redline

    files = {output / "report.json": (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")}
    for report, entry in zip(reports, data["reports"]):
        for loc in report.new.locales:
            files[output / report.policy_id / f"redline.{loc}.html"] = redline(report, loc)
            notice = entry["notices"][loc]
            if notice["items"]:
                text = f"{notice['banner']}\n" + "".join(f"- {line}\n" for line in notice["items"])
                text += f"\n---\n{notice['email_subject']}\n\n{notice['email_body']}\n"
                files[output / report.policy_id / f"notices.{loc}.txt"] = text.encode("utf-8")
    try:
        write_all(files)
    except OSError as exc:
        raise PolicygenError(f"{exc.filename or output}: cannot write ({exc.strerror})") from None


def _diff_summary(data: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=120, color_system=None, soft_wrap=False)
    if not data["reports"]:
        console.print("No policies to compare.")
    for report in data["reports"]:
        severity = (report["severity"] or "no change").upper()
        console.print(f"{report['policy']}: {report['from']['version']} -> {report['to']['version']}  {severity}")
        if not report["changes"]:
            console.print("  no changes")
            continue
        counts = ", ".join(f"{n} {name}" for name, n in report["counts"].items() if n)
        console.print(f"  {counts}")
        table = Table(show_header=True, box=None, pad_edge=False)
        for column in ("severity", "change", "rule", "reason"):
            table.add_column(column, overflow="fold")
        for change in report["changes"]:
            table.add_row(change["severity"], f"{change['kind']} {change['path']}", change["rule"], change["reason"])
        console.print(table)
        console.print()


def _parse_date(value: str, option: str) -> date:
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PolicygenError(f"{option}: '{value}' is not a date; write YYYY-MM-DD") from None


@app.command()
@reports_errors
def release(
    policy: Annotated[str, typer.Argument(help="The policy to release.")],
    version: Annotated[str, typer.Option("--version", help="The version label (must match policy.yaml).")],
    effective: Annotated[str, typer.Option("--effective", help="The effective date, YYYY-MM-DD (must match policy.yaml).")],
    notes: Annotated[str, typer.Option("--notes", help="Release notes, shown on the archive page.")] = "",
    project: ProjectOption = Path("."),
) -> None:
    """Freeze a version into the archive: sources, translations, HTML and PDF in every locale."""
    from .archive import release as run_release
    from .errors import display_path

    done = run_release(project, policy, version, _parse_date(effective, "--effective"), notes)
    severity = f", {done.severity} change against the previous release" if done.severity else ""
    typer.echo(f"Released {policy} {done.version} (effective {done.effective_date.isoformat()}, #{done.sequence}{severity}) into {display_path(done.folder)}")


@archive_app.command("list")
@reports_errors
def archive_list(policy: Annotated[str, typer.Argument(help="The policy.")], project: ProjectOption = Path(".")) -> None:
    """Every released version of a policy, oldest first."""
    from .archive import releases

    found = releases(project, policy)
    if not found:
        typer.echo(f"{policy}: no releases yet")
    for rel in found:
        typer.echo(f"{rel.sequence:>3}  {rel.version:<12} effective {rel.effective_date.isoformat()}  {rel.severity or '-':<9}  {rel.released_notes}")


@archive_app.command("verify")
@reports_errors
def archive_verify(
    policy: Annotated[Optional[str], typer.Argument(help="Only this policy.")] = None,
    project: ProjectOption = Path("."),
    head: Annotated[Optional[list[str]], typer.Option("--head", help="POLICY=SHA256: the head you recorded elsewhere (a tag, a ticket); verify fails if the newest release differs, so a removed or re-made newest release is caught.")] = None,
) -> None:
    """Recompute every hash and the chain; exit 1 on any changed, missing or extra file."""
    from .archive import Problem, verify
    from .errors import display_path

    checked, problems = verify(project, policy)
    newest = {}
    for rel in checked:
        newest[rel.policy] = rel
    for pin in head or []:
        name, _, digest = pin.partition("=")
        if name not in newest:
            problems.append(Problem(Path(name), "no releases to compare with the given --head"))
        elif newest[name].digest != digest.strip():
            problems.append(Problem(newest[name].folder / "release.json", f"the newest release's hash is {newest[name].digest}, not the expected head {digest.strip()}: the newest release was changed, removed or replaced"))
    for problem in problems:
        typer.echo(f"{display_path(problem.path)}: {problem.message}", err=True)
    if problems:
        typer.echo(f"policygen: archive verification failed: {len(problems)} problem{'s' if len(problems) != 1 else ''}", err=True)
        raise typer.Exit(1)
    files = sum(len(r.files) for r in checked)
    typer.echo(f"OK: {len(checked)} release{'s' if len(checked) != 1 else ''}, {files} files, hash chain intact.")
    for name, rel in sorted(newest.items()):
        # Record this outside the archive (a signed tag, a ticket) and pass it back with --head.
        typer.echo(f"head {name}={rel.digest} ({rel.version})")


@archive_app.command("show")
@reports_errors
def archive_show(
    policy: Annotated[str, typer.Argument(help="The policy.")],
    at: Annotated[str, typer.Option("--at", help="The date, YYYY-MM-DD.")],
    locale: Annotated[Optional[str], typer.Option("--locale", "-l", help="Show the outputs of this locale.")] = None,
    project: ProjectOption = Path("."),
) -> None:
    """Which version was in force on a date, and where its outputs are."""
    from .archive import in_force
    from .errors import display_path

    when = _parse_date(at, "--at")
    rel = in_force(project, policy, when)
    if rel is None:
        raise PolicygenError(f"{policy}: no release was in force on {when.isoformat()}")
    typer.echo(f"{policy} {rel.version}, in force since {rel.effective_date.isoformat()} (release #{rel.sequence})")
    for loc in [locale] if locale else rel.locales:
        if loc not in rel.locales:
            raise PolicygenError(f"{policy} {rel.version} has no locale '{loc}'; it has {', '.join(rel.locales)}")
        typer.echo(f"  {loc}: {display_path(rel.folder / 'output' / loc / 'index.html')}  {display_path(rel.folder / 'output' / loc / f'{policy}-{loc}.pdf')}")


@app.command("import")
@reports_errors
def import_(
    file: Annotated[Path, typer.Argument(help="The policy to import: plain text, HTML or Markdown.")],
    policy: Annotated[str, typer.Option("--policy", "-p", help="ID of the new policy (a safe slug).")],
    lang: Annotated[str, typer.Option("--lang", help="Language of the text: en, nl or km.")],
    project: ProjectOption = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Replace the files of an existing policy with this ID.")] = False,
) -> None:
    """Turn an existing policy into a source skeleton, and report what a person must still do."""
    from .errors import display_path
    from .importer import import_policy

    report = import_policy(project, file, policy, lang, force)
    typer.echo(report.render())
    for path in report.written:
        typer.echo(f"wrote {display_path(path)}")


@app.command()
@reports_errors
def rules(project: ProjectOption = Path(".")) -> None:
    """List the change-classification rules in force: ID, severity, and what each rests on."""
    from .classify import load_rules
    from .load import load_project

    loaded = load_project(project) if (project / "policygen.yaml").is_file() else None
    for rule in load_rules(loaded):
        typer.echo(f"{rule.severity:<9} {rule.id:<34} {rule.basis}")


@app.command()
@reports_errors
def schema(
    name: Annotated[str, typer.Argument(help="policy, project, glossary, rules or change-report.")] = "policy",
) -> None:
    """Print a JSON Schema, for editors that validate YAML while you type."""
    from .load import schema as load_schema

    if name not in SCHEMAS:
        raise PolicygenError(f"unknown schema '{name}'; choose {', '.join(SCHEMAS)}")
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


@i18n_app.command("status")
@reports_errors
def i18n_status(
    project: ProjectOption = Path("."),
    locale: Annotated[Optional[list[str]], typer.Option("--locale", "-l", help="Only this locale (repeatable).")] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """How far each catalog is; exits 1 while anything is not publishable (missing or fuzzy)."""
    from .catalogs import load_translations
    from .errors import Collector
    from .load import load_project
    from .translation import status

    if output_format not in ("table", "json"):
        raise PolicygenError(f"unknown format '{output_format}'; choose table or json")
    loaded = load_project(project)
    errors = Collector()
    translations = load_translations(loaded, locale, errors)
    errors.raise_if_any()
    report = status(loaded, translations, locale)
    complete = all(row.complete for row in report.statuses)
    if output_format == "json":
        rows = [row.as_json(loaded.root) for row in report.statuses]
        gaps = [{"catalog": g.domain, "locale": g.locale, "context": g.context, "state": g.state,
                 "path": g.path.relative_to(loaded.root).as_posix(), "line": g.line} for g in report.gaps]
        typer.echo(json.dumps({"complete": complete, "catalogs": rows, "gaps": gaps}, ensure_ascii=False, indent=2))
    else:
        _status_table(report.statuses)
        for gap in report.gaps:
            typer.echo(f"{gap.path.relative_to(loaded.root).as_posix()}:{gap.line}: [{gap.locale}] {gap.context}: {gap.state}")
    if not complete:
        raise typer.Exit(1)


def _status_table(rows: list) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Translation status", title_justify="left")
    for name, justify in (("catalog", "left"), ("locale", "left"), ("translated", "right"), ("fuzzy", "right"),
                          ("missing", "right"), ("obsolete", "right"), ("publishable words", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        share = f"{row.publishable_words}/{row.words} ({row.publishable_share:.0%})"
        table.add_row(row.domain, row.locale, str(row.translated), str(row.fuzzy), str(row.missing), str(row.obsolete), share)
    Console(width=110, color_system=None).print(table)


@i18n_app.command("check")
@reports_errors
def i18n_check(
    project: ProjectOption = Path("."),
    locale: Annotated[Optional[list[str]], typer.Option("--locale", "-l", help="Only this locale (repeatable).")] = None,
) -> None:
    """Check that translations keep their source's placeholders, link targets and markup."""
    from .catalogs import load_translations
    from .errors import Collector
    from .load import load_project
    from .translation import check as run_check

    loaded = load_project(project)
    errors = Collector()
    translations = load_translations(loaded, locale, errors)
    errors.raise_if_any()
    run_check(loaded, translations, locale).raise_if_any()
    typer.echo("OK: every translation keeps its placeholders, link targets and markup.")


@i18n_app.command("export")
@reports_errors
def i18n_export(
    project: ProjectOption = Path("."),
    output_format: Annotated[str, typer.Option("--format", "-f", help="Exchange format: xliff.")] = "xliff",
    locale: Annotated[Optional[list[str]], typer.Option("--locale", "-l", help="Only this locale (repeatable).")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Folder to write to (default: PROJECT/xliff).")] = None,
) -> None:
    """Export catalogs as XLIFF 1.1 for agencies' CAT tools: OUTPUT/<locale>/<catalog>.xlf."""
    from .load import load_project
    from .xliff import export

    if output_format != "xliff":
        raise PolicygenError(f"unknown format '{output_format}'; policygen exports xliff")
    loaded = load_project(project)
    _report_written(export(loaded, output or loaded.root / "xliff", locale), project)


@i18n_app.command("import")
@reports_errors
def i18n_import(
    files: Annotated[list[Path], typer.Argument(help="XLIFF files to merge into the catalogs.")],
    project: ProjectOption = Path("."),
) -> None:
    """Merge translated XLIFF files back into the PO catalogs (all or nothing)."""
    from .load import load_project
    from .xliff import import_files

    _report_written(import_files(load_project(project), files), project)


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
