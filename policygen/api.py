"""The library API: one function per command, the same ones the CLI calls.

Each function wires stages together and returns what the command reports; it prints nothing and
has no logic of its own. Problems are raised as :class:`~policygen.errors.PolicygenError` (with
``path:line`` diagnostics where they have a place), never printed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policygen.errors import PolicygenError

if TYPE_CHECKING:
    from policygen.archive.store import Release
    from policygen.build import BuildResult, Progress
    from policygen.changes.compare import PolicyReport
    from policygen.changes.rules import Rule
    from policygen.i18n.catalogs import Translations
    from policygen.i18n.status import Report
    from policygen.importers.project import ImportReport
    from policygen.model import Project
    from policygen.records import Checked

# Each command imports the stages it wires inside its function: ``policygen check`` loads no PDF
# renderer, importer or archive code, and ``policygen schema`` no stage at all (issue 13: the CLI
# imports only what the command needs). The API is the top of the library, imported by nothing
# but the CLI, so a lazy import here cannot hide a cycle; tests/test_layers.py allows it here only.

SCHEMAS = ("policy", "project", "glossary", "rules", "change-report")
SEVERITY_THRESHOLDS = ("major", "review", "minor")


def _check_date(value: date | None, option: str) -> None:
    from policygen.model import date_problem

    if value is not None and (problem := date_problem(value)):
        raise PolicygenError(f"{option}: {value.isoformat()} {problem}")


def init(directory: Path) -> list[Path]:
    """``policygen init``: a starter project in ``directory``; the files written."""
    if not str(directory).strip():
        raise PolicygenError("give the folder to create the project in, for example: policygen init my-policies")
    from policygen.scaffold import init_project

    return init_project(directory)


def build(
    project: Path, policies: list[str] | None = None, locales: list[str] | None = None, output: Path | None = None,
    allow_incomplete: bool | None = None, formats: Iterable[str] | None = None, jobs: int | None = None, today: date | None = None,
    use_cache: bool = True, progress: Progress | None = None,
) -> BuildResult:
    """``policygen build``: the site in ``output`` (default: the project's ``output/``); ``progress``
    is told how the PDFs advance; ``formats`` (default: every one of ``build.FORMATS``)."""
    from policygen.build import FORMATS
    from policygen.build import build as build_site

    _check_date(today, "--today")
    return build_site(project, policies, locales, output, allow_incomplete, FORMATS if formats is None else formats, jobs, today,
                      use_cache, progress)


def check(project: Path, allow_incomplete: bool | None = None, use_cache: bool = True) -> Checked:
    """``policygen check``: what a check of a sound project found (sources, catalogs, config and
    theme); its warnings list the facts a policy does not model and the prose that names what no
    fact covers. Raises with every problem found. An unchanged project answers from the record of
    its last check (``use_cache=False``: check afresh)."""
    from policygen.records import check_key, recorded_check

    # Asked before the stages are imported: an unchanged project costs a start-up and a hash of its files.
    whole = check_key(project, allow_incomplete) if use_cache else None
    if whole is not None and (recorded := recorded_check(project, allow_incomplete, whole)) is not None:
        return recorded
    from policygen.build import check as check_project

    return check_project(project, allow_incomplete, use_cache, unrecorded=whole)


@dataclass(frozen=True, slots=True)
class DiffResult:
    """What ``policygen diff`` found."""

    report: dict[str, Any]
    """The JSON change report."""
    severity: str | None
    """The most severe change, or None when nothing changed."""
    written: list[Path]
    """Files written into ``--output`` (empty without it)."""
    warnings: tuple[str, ...] = ()
    """What looks like a mistake but does not stop the diff (a version label not bumped)."""

    def fails(self, threshold: str | None) -> bool:
        """Whether a change reaches ``threshold`` (``--fail-on``)."""
        from policygen.changes.rules import RANK

        return threshold is not None and self.severity is not None and RANK[self.severity] >= RANK[threshold]


def diff(old: str, new: str, project: Path, policies: list[str] | None = None, output: Path | None = None,
         fail_on: str | None = None, lang: str = "en", pdf: bool = False) -> DiffResult:
    """``policygen diff``: compare two versions (folders, ``git:REV``, ``POLICY@VERSION``, or two
    text, HTML or Markdown files, imported in language ``lang``); with ``pdf``, the redlines
    written into ``output`` as PDF too."""
    if fail_on is not None and fail_on not in SEVERITY_THRESHOLDS:
        raise PolicygenError(f"--fail-on takes major, review or minor, not '{fail_on}'")
    if output is not None:
        _not_into_the_project_folders(output, project)
    from policygen.changes.checkout import checkout
    from policygen.changes.compare import compare, same_labels, worst
    from policygen.changes.report import report_json
    from policygen.importers.files import is_document

    if is_document(old) or is_document(new):
        return _diff_documents(Path(old), Path(new), lang, output, fail_on, pdf)
    with checkout(old, project) as (old_root, old_label), checkout(new, project) as (new_root, new_label):
        reports = compare(old_root, new_root, policies)
        data = report_json(reports, old_label, new_label)
        written = _write_changes(reports, data, output, pdf)
    return DiffResult(data, worst(reports), written, tuple(w for r in reports for w in same_labels(r, new)))


def _not_into_the_project_folders(output: Path, project: Path) -> None:
    """A folder named with ``--output`` (a diff's, an export's) may be anywhere but in the
    project's sources/, locales/, theme/ or archive/ (only a release writes the archive): ``diff
    --output archive`` put stray files there that 'archive verify' then reported."""
    try:
        resolved = output.resolve()
    except RuntimeError:
        return  # a loop of symbolic links: writing reports it
    for name in ("sources", "locales", "theme", "archive"):
        folder = (project / name).resolve()
        if folder.is_dir() and resolved.is_relative_to(folder):
            raise PolicygenError(f"{output}: the output folder lies in the project's {name}/ folder; choose another --output")


def _write_changes(reports: list[PolicyReport], data: dict[str, Any], output: Path | None, pdf: bool = False) -> list[Path]:
    """The report, redlines and notices of a diff, written into ``output`` (none without it)."""
    if output is None:
        return []
    from policygen.atomic import write_all
    from policygen.render.changes import change_files

    files = {output / rel: content for rel, content in change_files(reports, data, pdf).items()}
    try:
        # --output is a folder the user named: it may be anywhere, and every file stays inside it.
        write_all(files, output)
    except OSError as exc:
        raise PolicygenError(f"{exc.filename or output}: cannot write ({exc.strerror})") from None
    return sorted(files)


def _diff_documents(old: Path, new: Path, lang: str, output: Path | None, fail_on: str | None, pdf: bool = False) -> DiffResult:
    """``policygen diff old.html new.md``: both files imported as ``policygen import`` does, then compared."""
    from policygen.changes.compare import compare, worst
    from policygen.changes.report import report_json
    from policygen.importers.files import DOCUMENT_ID, document_versions

    for path in (old, new):
        if not path.is_file():
            raise PolicygenError(f"{path}: not a file; compare two files (text, HTML or Markdown), or two versions of a project")
    with document_versions(old, new, lang, date.today()) as (old_root, new_root, imports):
        reports = compare(old_root, new_root, [DOCUMENT_ID], {i.markdown: i.document for i in imports})
        data = report_json(reports, old.name, new.name)
        written = _write_changes(reports, data, output, pdf)
    return DiffResult(data, worst(reports), written)


def release(project: Path, policy: str, version: str, effective: date, notes: str = "", signing_key: Path | None = None,
            allow_incomplete: bool = False, progress: Progress | None = None, today: date | None = None) -> Release:
    """``policygen release``: freeze a version into the archive (signed with ``signing_key``, a
    private key outside the project, when given; required when the project has public keys);
    with ``allow_incomplete``, with translations pending; ``progress`` is told how the PDFs advance;
    ``today`` (default: the system's date) is recorded as the day of the release."""
    from policygen.archive import release as release_workflow

    _check_date(effective, "--effective")
    _check_date(today, "--today")
    return release_workflow.release(project, policy, version, effective, notes, today, signing_key=signing_key,
                                    allow_incomplete=allow_incomplete, progress=progress)


def archive_list(project: Path, policy: str) -> list[Release]:
    """``policygen archive list``: the releases of ``policy``, oldest first."""
    from policygen.archive import store

    return store.releases(project, policy)


@dataclass(frozen=True, slots=True)
class Verified:
    """An archive that verified: what was checked, and the heads to record elsewhere."""

    releases: list[Release]
    heads: dict[str, Release]
    ignored: list[Path]
    """Temporary folders of interrupted releases (not part of the archive)."""
    signed: int
    """How many releases carry a signature that verified."""


def archive_verify(project: Path, policy: str | None = None, heads: list[str] | None = None, against: Path | None = None,
                   keys: list[Path] | None = None) -> Verified:
    """``policygen archive verify``: every hash, the chain, nothing unlisted, no symbolic link,
    the signatures; with ``heads`` (POLICY=SHA256) or ``against`` (a saved ``manifest.json`` of
    the published site) the newest releases too. ``keys``: public keys to trust instead of the
    project's ``archive/_keys/``. Raises with every problem found."""
    from policygen.archive import sign, store
    from policygen.errors import SourceError

    pins: dict[str, str] = {}
    for pin in heads or []:
        name, sep, digest = pin.partition("=")
        if not sep or not name or not digest.strip():
            raise PolicygenError(f"--head '{pin}': write POLICY=SHA256, as 'policygen archive verify' prints it")
        pins[name] = digest.strip()
    published = store.read_published(against) if against is not None else None
    trusted = {key.fingerprint: key for key in (sign.read_public_key(path) for path in keys)} if keys else None
    result = store.verify(project, policy, pins, trusted)
    problems = list(result.problems)
    if published is not None:
        problems += store.check_published(project, result.releases, published, policy)
    if problems:
        raise SourceError(problems)
    return Verified(result.releases, store.newest(result.releases), result.ignored, result.signed)


def archive_keygen(project: Path, name: str, private_key: Path) -> tuple[Path, Path]:
    """``policygen archive keygen``: an Ed25519 key pair; the private key outside the project, the
    public one in ``archive/_keys/<name>.pub``. Returns (public, private)."""
    from policygen.archive import sign, store
    from policygen.source.load import find_project

    root = find_project(project)
    return sign.generate(store.archive_root(root), root, name, private_key)


def archive_sign(project: Path, policy: str, signing_key: Path | None) -> Release:
    """``policygen archive sign``: sign the newest release of ``policy`` when it is not signed yet
    (a project that starts signing). The archive must verify first, signature aside."""
    from policygen.archive import release as release_workflow

    return release_workflow.sign_head(project, policy, signing_key)


def archive_show(project: Path, policy: str, at: date, locale: str | None = None) -> tuple[Release, dict[str, tuple[Path, Path]]]:
    """``policygen archive show``: the release in force on ``at``, and per locale its page and PDF."""
    from policygen.archive import store

    _check_date(at, "--at")
    found = store.in_force(project, policy, at)
    if found is None:
        raise PolicygenError(f"{policy}: no release was in force on {at.isoformat()}")
    if locale is not None and locale not in found.locales:
        raise PolicygenError(f"{policy} {found.version} has no locale '{locale}'; it has {', '.join(found.locales)}")
    return found, {loc: store.release_outputs(found, loc) for loc in ([locale] if locale else found.locales)}


def import_(project: Path, file: Path, policy: str, lang: str, force: bool = False, update: bool = False,
            progress: Progress | None = None) -> ImportReport:
    """``policygen import``: a text, HTML or Markdown file -> ``sources/<policy>/`` and a report; with
    ``update``, a new version of an imported policy, keeping the IDs of clauses whose text matches;
    ``progress`` is told how the import of a large file advances."""
    from policygen.importers.project import import_policy

    return import_policy(project, file, policy, lang, force, update, progress=progress)


def serve(project: Path, port: int = 8000, host: str = "127.0.0.1", output: Path | None = None, today: date | None = None,
          say: Callable[[str], None] = print, pdf: bool = True, allow_incomplete: bool | None = None,
          complain: Callable[[str], None] | None = None, announce: Callable[[str], None] | None = None) -> None:
    """``policygen serve``: build, serve the output on ``host:port``, rebuild on every save (until Ctrl-C);
    a failed build is reported through ``complain``, the address served through ``announce``
    (both default: ``say``)."""
    from policygen import serve as preview

    preview.serve(project, port, host, output, today, say, pdf, allow_incomplete, complain, announce)


def rules(project: Path) -> list[Rule]:
    """``policygen rules``: the classification rules in force (the project's ``rules.yaml`` applied)."""
    from policygen.changes.rules import load_rules
    from policygen.source.load import CONFIG_FILE, load_project

    return load_rules(load_project(project) if (project / CONFIG_FILE).is_file() else None)


def schema(name: str) -> dict[str, Any]:
    """``policygen schema``: one of the JSON Schemas."""
    if name not in SCHEMAS:
        raise PolicygenError(f"unknown schema '{name}'; choose {', '.join(SCHEMAS)}")
    from policygen.resources import schema as package_schema

    return package_schema(name)


def i18n_extract(project: Path) -> list[Path]:
    """``policygen i18n extract``: templates, and every missing catalog; the files written."""
    from policygen.i18n import catalogs
    from policygen.source.load import load_project

    return catalogs.extract(load_project(project))


def i18n_update(project: Path) -> list[Path]:
    """``policygen i18n update``: templates merged into every catalog; the files written."""
    from policygen.i18n import catalogs
    from policygen.source.load import load_project

    return catalogs.update(load_project(project))


def _translations(project: Path, locales: list[str] | None) -> tuple[Project, Translations]:
    from policygen.errors import Collector
    from policygen.i18n import catalogs
    from policygen.source.load import check_locales, load_project

    loaded = load_project(project)
    check_locales(loaded, locales)
    errors = Collector()
    translations = catalogs.load_translations(loaded, locales, errors)
    errors.raise_if_any()
    return loaded, translations


def i18n_status(project: Path, locales: list[str] | None = None) -> Report:
    """``policygen i18n status``: how far each catalog is, and every gap."""
    from policygen.i18n import status

    loaded, translations = _translations(project, locales)
    return status.status(loaded, translations, locales)


def i18n_check(project: Path, locales: list[str] | None = None) -> None:
    """``policygen i18n check``: raises unless every translation keeps placeholders, links and markup."""
    from policygen.i18n import status

    loaded, translations = _translations(project, locales)
    status.check(loaded, translations, locales).raise_if_any()


def i18n_export(project: Path, output_format: str = "xliff12", locales: list[str] | None = None, output: Path | None = None) -> list[Path]:
    """``policygen i18n export``: XLIFF files for CAT tools; the files written."""
    from policygen.atomic import contained
    from policygen.i18n import xliff
    from policygen.source.load import check_locales, load_project

    if output_format not in xliff.FORMATS:
        raise PolicygenError(f"unknown format '{output_format}'; policygen exports {', '.join(xliff.FORMATS)} (xliff is 1.2)")
    loaded = load_project(project)
    check_locales(loaded, locales)
    # The default folder must lie in the project; a folder named with --output may be anywhere.
    if output is not None:
        _not_into_the_project_folders(output, project)
    return xliff.export(loaded, output or contained(loaded.root / "xliff", loaded.root), locales, xliff.FORMATS[output_format])


def i18n_import(project: Path, files: list[Path], progress: Progress | None = None) -> list[Path]:
    """``policygen i18n import``: translated XLIFF merged into the catalogs; the files written.
    ``progress`` is told how an import of many files advances."""
    from policygen.i18n import xliff
    from policygen.source.load import load_project

    return xliff.import_files(load_project(project), files, progress)
