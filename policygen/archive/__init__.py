"""ARCHIVE: released versions, frozen, append-only and hash-chained.

:mod:`~policygen.archive.store` reads and verifies the archive; :mod:`~policygen.archive.release`
is the workflow that adds a release.
"""
