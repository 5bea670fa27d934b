"""policygen: compile structured, versioned policy sources into localized HTML and PDF.

One subpackage per stage, and no stage imports a later one (``tests/test_layers.py`` holds the
order):

:mod:`~policygen.source` (a project folder -> :class:`~policygen.model.Project`) ->
:mod:`~policygen.i18n` (policy + locale + gettext catalogs ->
:class:`~policygen.i18n.localize.LocalizedPolicy`) -> :mod:`~policygen.changes` (two versions ->
graded changes and notices) -> :mod:`~policygen.render` (-> HTML and PDF bytes) ->
:mod:`policygen.build` (writes the outputs through the build cache).

:mod:`~policygen.archive` keeps released versions, append-only and hash-chained: its store is read
as early as the sources, its release workflow runs beside ``build``. :mod:`~policygen.importers`
turns an existing policy into a source skeleton. :mod:`policygen.api` has one function per
command; the CLI in :mod:`policygen.cli` only parses arguments and calls it.
"""

__version__ = "0.1.0"
