"""The cyclic garbage collector around work that makes many long-lived objects.

Loading a project, or importing two documents for a file diff, makes tens or hundreds of
thousands of objects (Markdown tokens above all) that live until the build or the diff ends.
Python's cyclic collector would walk them again and again: a fifth of an HTML build's CPU, a
tenth of a file diff's. :func:`long_lived` pauses it while they are made and then sets them
aside from its walks (``gc.freeze``; forked PDF workers share them without copying) until the
block ends; what is made afterwards, such as WeasyPrint's layouts, is collected as usual.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def long_lived() -> Iterator[Callable[[], None]]:
    """Pause the collector for the block; call the function it yields once the long-lived objects
    are made, to resume collecting with them frozen out of its walks."""
    enabled = gc.isenabled()
    gc.disable()

    def made() -> None:
        if enabled:
            gc.enable()
        gc.freeze()

    try:
        yield made
    finally:
        if enabled:
            gc.enable()
        gc.unfreeze()
