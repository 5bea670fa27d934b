"""policygen: compile structured, versioned policy sources into localized HTML.

The pipeline is a sequence of stages, each a module named after what it does:

``load`` (sources -> :class:`~policygen.model.Project`) -> ``localize`` (policy + locale +
catalogs -> :class:`~policygen.localize.LocalizedPolicy`) -> ``render_html`` (-> page bytes) ->
``build`` (writes outputs and ``manifest.json``). ``catalogs`` reads and writes the gettext
catalogs translators work in. The CLI in :mod:`policygen.cli` only parses arguments and calls
these stages.
"""

__version__ = "0.1.0"
