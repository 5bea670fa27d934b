"""The ``policygen`` command line: a thin typer layer over :mod:`policygen.api`.

Each command parses its arguments, makes one call into the API and prints the result. The one
error boundary is :class:`_Commands`: a :class:`~policygen.errors.PolicygenError` raised by any
command becomes its messages on stderr (``path:line: message`` per problem) and exit code 1,
never a traceback.

The API (and with it every stage) is imported when a command runs, not when the CLI module is
imported, so ``policygen --help`` starts at once.

This module does not postpone its annotations (no ``from __future__ import annotations``): typer
reads every command's ``Annotated[...]`` options on every run, and as strings they would be
evaluated again each time (about 35 ms of each command's start-up).
"""

import contextlib
import io
import json
import re
import signal
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from policygen import __version__
from policygen.errors import PolicygenError, display_path

if TYPE_CHECKING:
    from policygen.i18n.status import Report

_VERBOSITY_FLAGS = ("-q", "--quiet", "-v", "--verbose")
_COMBINED = re.compile(r"-[qv]{2,}")


class _Output:
    """What the global -q and -v asked for."""

    quiet = False
    verbose = False
    results: Any = None
    """Where what a command is asked for goes (a report, a schema, a list): standard output,
    which -q does not silence (it silences what a command says about its work)."""


def _result(text: str) -> None:
    """Print what the command was asked for: it goes to standard output even under -q, so that
    ``policygen -q diff --format json a b > report.json`` writes the report."""
    typer.echo(text, file=_Output.results)


def _results_console(width: int, **options: Any) -> Any:
    """A rich console printing onto :func:`_result`'s stream."""
    from rich.console import Console

    return Console(width=width, color_system=None, file=_Output.results or sys.stdout, **options)


FAIL_EXIT = 3
"""Exit code of ``diff --fail-on`` when a change reaches the threshold (1 stays "an error")."""


class _Commands(TyperGroup):
    """The CLI's one error boundary: every command runs inside :meth:`invoke`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # -q and -v work on every command, before or after its name (policygen build -q).
        end = args.index("--") if "--" in args else len(args)
        # -vv, -qv: a word of these letters alone is each of its flags, after the name as before it.
        split = [[f"-{letter}" for letter in a[1:]] if _COMBINED.fullmatch(a) else [a] for a in args[:end]]
        args = [word for words in split for word in words] + args[end:]
        end = args.index("--") if "--" in args else len(args)
        flags = [a for a in args[:end] if a in _VERBOSITY_FLAGS]
        rest = [a for a in args[:end] if a not in _VERBOSITY_FLAGS] + args[end:]
        return super().parse_args(ctx, flags + rest)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except PolicygenError as exc:
            diagnostics = exc.diagnostics()
            for diagnostic in diagnostics:
                typer.echo(diagnostic.format(), err=True)
            if diagnostics:
                typer.echo(f"policygen: {_count(len(diagnostics), 'error')}", err=True)
            else:
                typer.echo(f"policygen: {exc}", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    name="policygen", cls=_Commands,
    help="Compile structured, versioned policy sources into localized HTML and PDF.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
i18n_app = typer.Typer(help="Translation catalogs (gettext PO) for translators.", no_args_is_help=True)
app.add_typer(i18n_app, name="i18n")
archive_app = typer.Typer(help="The archive of released versions: list, verify, show, keygen, sign.", no_args_is_help=True)
app.add_typer(archive_app, name="archive")

ProjectOption = Annotated[Path, typer.Option("--project", "-C", help="Project folder (holds policygen.yaml).", file_okay=False)]
LocalesOption = Annotated[list[str] | None, typer.Option("--locale", "-l", help="Only this locale (repeatable).")]


def api() -> ModuleType:
    """The library API, imported on first use (it imports every stage)."""
    from policygen import api as loaded

    return loaded


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PolicygenError(f"{option}: '{value}' is not a date; write YYYY-MM-DD") from None


def _report_written(written: list[Path]) -> None:
    if not written:
        typer.echo("Catalogs are up to date.")
    for path in written:
        typer.echo(f"wrote {display_path(path)}")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"policygen {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[bool | None, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors and what the command is asked for (a report, a "
        "schema, a list), nothing about its work (any command, before or after its name).")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print more: every file written, PDF progress as plain lines "
        "(any command).")] = False,
) -> None:
    """policygen compiles policy sources (facts + Markdown prose) into localized HTML and PDF."""
    _Output.quiet, _Output.verbose = quiet, verbose and not quiet
    _Output.results = sys.stdout
    if quiet:
        ctx.with_resource(contextlib.redirect_stdout(io.StringIO()))


@app.command()
def init(directory: Annotated[Path, typer.Argument(help="Folder to create the project in.")]) -> None:
    """Scaffold a project: policygen.yaml, a starter policy and its translations."""
    created = api().init(directory)
    typer.echo(f"Created a policygen project in {directory} ({len(created)} files).")
    typer.echo(f"Next: policygen build -C {directory}")


@app.command()
def build(
    project: ProjectOption = Path("."),
    policy: Annotated[list[str] | None, typer.Option("--policy", "-p", help="Build only this policy (repeatable).")] = None,
    locale: Annotated[list[str] | None, typer.Option("--locale", "-l", help="Build only this locale (repeatable).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output folder (default: PROJECT/output).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success.")] = False,
    allow_incomplete: Annotated[bool | None, typer.Option("--allow-incomplete/--no-allow-incomplete", help="Publish locales with missing or fuzzy "
        "translations (shown in the source language, with a notice). Default: the project's setting.")] = None,
    formats: Annotated[str, typer.Option("--format", "-f", help="Comma-separated: html, pdf.")] = "html,pdf",
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="PDFs to render at once (default: one per core).", min=1)] = None,
    today: Annotated[str | None, typer.Option("--today", help="Build as if it were this date (YYYY-MM-DD): which version is in force, which banner "
        "shows.")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", "--force", help="Render everything again (pages, PDFs, archive pages), "
        "neither reading nor writing the build cache (.policygen/cache/).")] = False,
) -> None:
    """Render every policy in every locale (HTML pages, PDFs) into the output folder, with manifest.json."""
    when = _parse_date(today, "--today") if today is not None else None
    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    with _progress() as progress:
        result = api().build(project, policy, locale, output, allow_incomplete, chosen, jobs, when, use_cache=not no_cache, progress=progress)
    if _Output.quiet:
        return
    if _Output.verbose:
        for path in result.written:
            typer.echo(f"wrote {path}")
        for path in result.removed:
            typer.echo(f"removed {path}")
    pdfs = f"{_count(len(result.pdfs_rendered), 'PDF')} rendered, {len(result.pdfs_cached)} from cache; " if result.pdfs_rendered or result.pdfs_cached else ""
    other = {kind: n for kind, n in result.rendered.items() if kind != "pdf"}
    reused = {kind: n for kind, n in result.cached.items() if kind != "pdf"}
    html = f"{_count(sum(other.values()), 'other output')} rendered, {sum(reused.values())} from cache; " if other or reused else ""
    typer.echo(
        f"Built {_count(result.pages, 'page')} into {result.output_dir}: {pdfs}{html}{_count(len(result.written), 'file')} written, "
        f"{len(result.unchanged)} unchanged" + (f", {len(result.removed)} removed" if result.removed else "") + f" ({result.seconds:.1f} s)."
    )
    if _Output.verbose:
        for kind in sorted(set(result.rendered) | set(result.cached)):
            typer.echo(f"  {kind}: {result.rendered.get(kind, 0)} rendered, {result.cached.get(kind, 0)} from cache")
    for (policy_id, loc), count in sorted(result.untranslated.items()):
        typer.echo(f"note: {policy_id} [{loc}]: {_count(count, 'block')} not translated, shown in the source language", err=True)
    for (policy_id, loc), count in sorted(result.missing_labels.items()):
        typer.echo(f"note: {policy_id} [{loc}]: {_count(count, 'glossary label')} not translated, shown in the glossary's language", err=True)


_DOING = {"PDFs": "Rendering PDFs", "import": "Importing", "XLIFF files": "Merging XLIFF files"}
"""What a progress bar says it is doing, by what the API says advances."""


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar on a terminal (stderr); plain lines with -v elsewhere; nothing otherwise or with -q.
    Told by PDF rendering (builds and releases), large imports and imports of many XLIFF files."""
    if _Output.quiet:
        yield None
    elif sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=Console(stderr=True), transient=True) as bar:
            tasks: dict[str, Any] = {}

            def advance(what: str, done: int, total: int) -> None:
                if what not in tasks:
                    tasks[what] = bar.add_task(_DOING.get(what, what), total=total)
                bar.update(tasks[what], completed=done, total=total)

            yield advance
    elif _Output.verbose:
        yield lambda what, done, total: typer.echo(f"{what}: {done}/{total}", err=True)
    else:
        yield None


@app.command()
def check(
    project: ProjectOption = Path("."),
    allow_incomplete: Annotated[bool | None, typer.Option("--allow-incomplete/--no-allow-incomplete", help="Do not fail on missing or fuzzy "
        "translations.")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", "--force", help="Check afresh, even when nothing changed since the last check "
        "that passed (recorded in .policygen/cache/).")] = False,
) -> None:
    """Validate sources, catalogs and config without building. Reports every error found."""
    checked = api().check(project, allow_incomplete, use_cache=not no_cache)
    for warning in checked.warnings:
        typer.echo(warning.format(), err=True)
    count = len(checked.policies)
    warned = f", {_count(len(checked.warnings), 'warning')}" if checked.warnings else ""
    typer.echo(f"OK: {count} polic{'ies' if count != 1 else 'y'}, {len(checked.locales)} locales, no errors{warned}.")
    if _Output.verbose:
        typer.echo("Answered from the record of the last check that passed: no input changed since (--no-cache checks afresh)."
                   if checked.recorded else "Checked afresh: sources, catalogs, rules, config and theme, every page rendered in memory.")


@app.command()
def diff(
    old: Annotated[str, typer.Argument(help="The old version: a project folder, git:REV, POLICY@VERSION, or a text, HTML or Markdown file.")],
    new: Annotated[str, typer.Argument(help="The new version: a project folder, git:REV, POLICY@VERSION, or a text, HTML or Markdown file.")],
    project: ProjectOption = Path("."),
    policy: Annotated[list[str] | None, typer.Option("--policy", "-p", help="Only this policy (repeatable).")] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="text or json (the change report, on stdout).")] = "text",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write report.json, redlines and notices for every locale here.")] = None,
    fail_on: Annotated[str | None, typer.Option("--fail-on", help="Exit with code 3 when a change is at least this severe: major, review or minor.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of two files compared directly: en, nl or km.")] = "en",
    pdf: Annotated[bool, typer.Option("--pdf", help="With --output, also write each redline as PDF (redline.<locale>.pdf).")] = False,
) -> None:
    """Compare two versions: every change graded major/review/minor/editorial, with its reason.
    OLD and NEW may also be two files (text, HTML or Markdown), compared without a project."""
    if output_format not in ("text", "json"):
        raise PolicygenError(f"unknown format '{output_format}'; choose text or json")
    if pdf and output is None:
        raise PolicygenError("--pdf writes the redlines' PDFs into the --output folder; give --output DIR too")
    result = api().diff(old, new, project, policy, output, fail_on, lang, pdf)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if output_format == "json":
        _result(json.dumps(result.report, ensure_ascii=False, indent=2, sort_keys=True))
    else:
        _diff_summary(result.report)
    if result.fails(fail_on):
        raise typer.Exit(FAIL_EXIT)


def _diff_summary(data: dict[str, Any]) -> None:
    from rich.table import Table

    console = _results_console(120, soft_wrap=False)
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


SigningKeyOption = Annotated[Path | None, typer.Option("--signing-key", envvar="POLICYGEN_SIGNING_KEY", dir_okay=False,
    help="The private Ed25519 key that signs release.json (outside the project); required when archive/_keys/ holds public keys.")]


@app.command()
def release(
    policy: Annotated[str, typer.Argument(help="The policy to release.")],
    version: Annotated[str, typer.Option("--version", help="The version label (must match policy.yaml).")],
    effective: Annotated[str, typer.Option("--effective", help="The effective date, YYYY-MM-DD (must match policy.yaml).")],
    notes: Annotated[str, typer.Option("--notes", help="Release notes, shown on the archive page.")] = "",
    project: ProjectOption = Path("."),
    signing_key: SigningKeyOption = None,
    allow_incomplete: Annotated[bool, typer.Option("--allow-incomplete", help="Release even with missing or fuzzy translations (an urgent "
        "change): those blocks appear in the source language, and release.json, the archive page, the feed and the banner say which "
        "languages are pending; a later release completes them.")] = False,
    today: Annotated[str | None, typer.Option("--today", help="The day of the release (YYYY-MM-DD, default today), recorded in release.json: "
        "the feed announces an upcoming release by it.")] = None,
) -> None:
    """Freeze a version into the archive: sources, translations, HTML and PDF in every locale."""
    when = _parse_date(today, "--today") if today is not None else None
    with _progress() as progress:
        done = api().release(project, policy, version, _parse_date(effective, "--effective"), notes, signing_key, allow_incomplete, progress,
                             when)
    severity = f", {done.severity} change against the previous release" if done.severity else ""
    typer.echo(f"Released {policy} {done.version} (effective {done.effective_date.isoformat()}, #{done.sequence}{severity}) into {display_path(done.folder)}")
    for locale, counts in sorted(done.incomplete.items()):
        typer.echo(f"  translation pending: {locale} ({_count(counts['blocks'], 'block')} and {_count(counts['labels'], 'glossary label')} "
                   "in the source language)")


@archive_app.command("list")
def archive_list(policy: Annotated[str, typer.Argument(help="The policy.")], project: ProjectOption = Path(".")) -> None:
    """Every released version of a policy, oldest first."""
    found = api().archive_list(project, policy)
    if not found:
        _result(f"{policy}: no releases yet")
    for rel in found:
        _result(f"{rel.sequence:>3}  {rel.version:<12} effective {rel.effective_date.isoformat()}  {rel.severity or '-':<9}  {rel.released_notes}")


@archive_app.command("verify")
def archive_verify(
    policy: Annotated[str | None, typer.Argument(help="Only this policy.")] = None,
    project: ProjectOption = Path("."),
    head: Annotated[list[str] | None, typer.Option("--head", help="POLICY=SHA256: the head you recorded elsewhere (a tag, a ticket); verify fails if "
        "the newest release differs, so a removed or re-made newest release is caught.")] = None,
    against: Annotated[Path | None, typer.Option("--against", dir_okay=False, help="A manifest.json saved from the published site: verify "
        "fails if a release it names as a head is gone or differs (releases made since are fine).")] = None,
    key: Annotated[list[Path] | None, typer.Option("--key", dir_okay=False, help="A public key (.pub) to trust instead of the project's "
        "archive/_keys/, for example one you got from the publisher.")] = None,
) -> None:
    """Recompute every hash and the chain, check signatures; exit 1 on any problem or pin mismatch."""
    verified = api().archive_verify(project, policy, head, against, key)
    files = sum(len(r.files) for r in verified.releases)
    signed = f", {verified.signed} signed" if verified.signed else ""
    typer.echo(f"OK: {_count(len(verified.releases), 'release')}{signed}, {files} files, hash chain intact.")
    for folder in verified.ignored:
        typer.echo(f"note: {display_path(folder)}: left by an interrupted release; not part of the archive, the next release removes it",
                   err=True)
    for name, rel in sorted(verified.heads.items()):
        # Record this outside the archive (a signed tag, a ticket) and pass it back with --head.
        _result(f"head {name}={rel.digest} ({rel.version})")


@archive_app.command("keygen")
def archive_keygen(
    name: Annotated[str, typer.Argument(help="The key's name: archive/_keys/NAME.pub.")],
    private_key: Annotated[Path, typer.Option("--private-key", dir_okay=False, help="Where to write the private key: a path outside "
        "the project (never commit it).")],
    project: ProjectOption = Path("."),
) -> None:
    """Create an Ed25519 key pair for signing releases."""
    public, private = api().archive_keygen(project, name, private_key)
    typer.echo(f"Wrote {display_path(public)} (commit it) and {private} (keep it secret, outside the project).")
    typer.echo("Sign releases with --signing-key or POLICYGEN_SIGNING_KEY; sign an unsigned archive's head with 'policygen archive sign'.")


@archive_app.command("sign")
def archive_sign(
    policy: Annotated[str, typer.Argument(help="The policy whose newest release to sign.")],
    project: ProjectOption = Path("."),
    signing_key: SigningKeyOption = None,
) -> None:
    """Sign the newest release of a policy that is not signed yet (when a project starts signing)."""
    head = api().archive_sign(project, policy, signing_key)
    typer.echo(f"Signed {policy} {head.version} (#{head.sequence}).")


@archive_app.command("show")
def archive_show(
    policy: Annotated[str, typer.Argument(help="The policy.")],
    at: Annotated[str, typer.Option("--at", help="The date, YYYY-MM-DD.")],
    locale: Annotated[str | None, typer.Option("--locale", "-l", help="Show the outputs of this locale.")] = None,
    project: ProjectOption = Path("."),
) -> None:
    """Which version was in force on a date, and where its outputs are."""
    rel, outputs = api().archive_show(project, policy, _parse_date(at, "--at"), locale)
    _result(f"{policy} {rel.version}, in force since {rel.effective_date.isoformat()} (release #{rel.sequence})")
    for loc, (page, pdf) in outputs.items():
        _result(f"  {loc}: {display_path(page)}  {display_path(pdf)}")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="The policy to import: plain text, HTML or Markdown.")],
    policy: Annotated[str, typer.Option("--policy", "-p", help="ID of the new policy (a safe slug).")],
    lang: Annotated[str, typer.Option("--lang", help="Language of the text: en, nl or km.")],
    project: ProjectOption = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Replace the files of an existing policy with this ID.")] = False,
    update: Annotated[bool, typer.Option("--update", help="Bring in a new version of an imported policy: clauses whose text matches keep "
        "their IDs, policy.yaml is kept (with the new effective date).")] = False,
) -> None:
    """Turn an existing policy into a source skeleton, and report what a person must still do."""
    with _progress() as progress:
        report = api().import_(project, file, policy, lang, force, update, progress)
    typer.echo(report.render())
    for path in report.written:
        typer.echo(f"wrote {display_path(path)}")


@app.command()
def serve(
    project: ProjectOption = Path("."),
    port: Annotated[int, typer.Option("--port", help="The port to serve on.", min=1, max=65535)] = 8000,
    host: Annotated[str, typer.Option("--host", help="The address to listen on. The default serves this machine only; "
        "another address shows your drafts to the network.")] = "127.0.0.1",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output folder (default: PROJECT/output).")] = None,
    today: Annotated[str | None, typer.Option("--today", help="Build as if it were this date (YYYY-MM-DD).")] = None,
    no_pdf: Annotated[bool, typer.Option("--no-pdf", help="Build HTML only (PDFs are rendered after the HTML otherwise).")] = False,
    allow_incomplete: Annotated[bool | None, typer.Option("--allow-incomplete/--no-allow-incomplete", help="Show what is not translated "
        "yet in the source language (with a notice), so an edit shows before its translation. Default: the project's setting.")] = None,
) -> None:
    """Preview while you write: build, serve the output on localhost, rebuild on every save and reload the page."""
    when = _parse_date(today, "--today") if today is not None else None
    try:
        # A failed build goes to stderr, so that -q still shows it; the address served is what
        # serve is asked for, which -q keeps too (_result).
        api().serve(project, port, host, output, when, say=typer.echo, pdf=not no_pdf, allow_incomplete=allow_incomplete,
                    complain=lambda message: typer.echo(message, err=True), announce=_result)
    except KeyboardInterrupt:
        typer.echo("Stopped.")


@app.command()
def rules(project: ProjectOption = Path(".")) -> None:
    """List the change-classification rules in force: ID, severity, and what each rests on."""
    for rule in api().rules(project):
        _result(f"{rule.severity:<9} {rule.id:<34} {rule.basis}")


@app.command()
def schema(name: Annotated[str, typer.Argument(help="policy, project, glossary, rules or change-report.")] = "policy") -> None:
    """Print a JSON Schema, for editors that validate YAML while you type."""
    _result(json.dumps(api().schema(name), indent=2, ensure_ascii=False))


@i18n_app.command("extract")
def i18n_extract(project: ProjectOption = Path(".")) -> None:
    """Write the templates (.pot) and create every missing catalog (.po)."""
    _report_written(api().i18n_extract(project))


@i18n_app.command("update")
def i18n_update(project: ProjectOption = Path(".")) -> None:
    """Refresh templates and merge them into every catalog (changed text becomes fuzzy)."""
    _report_written(api().i18n_update(project))


@i18n_app.command("status")
def i18n_status(
    project: ProjectOption = Path("."),
    locale: LocalesOption = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """How far each catalog is; exits 1 while anything is not publishable (missing or fuzzy)."""
    if output_format not in ("table", "json"):
        raise PolicygenError(f"unknown format '{output_format}'; choose table or json")
    report = api().i18n_status(project, locale)
    if output_format == "json":
        _result(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        _status_table(report)
    if not report.complete:
        raise typer.Exit(1)


def _status_table(report: "Report") -> None:
    from rich.table import Table

    table = Table(title="Translation status", title_justify="left")
    for name in ("catalog", "locale"):
        table.add_column(name, justify="left")
    for name in ("translated", "fuzzy", "missing", "obsolete", "publishable words"):
        table.add_column(name, justify="right")
    for row in report.statuses:
        share = f"{row.publishable_words}/{row.words} ({row.publishable_share:.0%})"
        table.add_row(row.domain, row.locale, str(row.translated), str(row.fuzzy), str(row.missing), str(row.obsolete), share)
    _results_console(110).print(table)
    for gap in report.gaps:
        _result(f"{gap.path.relative_to(report.root).as_posix()}:{gap.line}: [{gap.locale}] {gap.context}: {gap.state}")


@i18n_app.command("check")
def i18n_check(project: ProjectOption = Path("."), locale: LocalesOption = None) -> None:
    """Check that translations keep their source's placeholders, link targets and markup."""
    api().i18n_check(project, locale)
    typer.echo("OK: every translation keeps its placeholders, link targets and markup.")


@i18n_app.command("export")
def i18n_export(
    project: ProjectOption = Path("."),
    output_format: Annotated[str, typer.Option("--format", "-f", help="Exchange format: xliff12 (XLIFF 1.2), xliff20 (XLIFF 2.0); xliff is 1.2.")] = "xliff12",
    locale: LocalesOption = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Folder to write to (default: PROJECT/xliff).")] = None,
) -> None:
    """Export catalogs as XLIFF 1.2 or 2.0 for agencies' CAT tools: OUTPUT/<locale>/<catalog>.xlf."""
    _report_written(api().i18n_export(project, output_format, locale, output))


@i18n_app.command("import")
def i18n_import(
    files: Annotated[list[Path], typer.Argument(help="XLIFF files to merge into the catalogs.")],
    project: ProjectOption = Path("."),
) -> None:
    """Merge translated XLIFF files back into the PO catalogs (all or nothing)."""
    with _progress() as progress:
        written = api().i18n_import(project, files, progress)
    _report_written(written)


def _terminate(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def run() -> None:
    """Console-script entry point."""
    # SIGTERM (a CI timeout, systemd, kill) ends policygen the way Ctrl-C does: the cleanup runs,
    # PDF workers are stopped and temporary folders removed, and the output is left as it was.
    signal.signal(signal.SIGTERM, _terminate)
    app(prog_name="policygen")
