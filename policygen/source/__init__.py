"""LOAD: a project folder -> :class:`~policygen.model.Project`.

Reads ``policygen.yaml``, ``glossary.yaml`` and every ``sources/<id>/`` (facts and prose), checks
them against the schemas and each other, and produces the frozen model. Every problem is a
``path:line`` diagnostic, all of them reported at once.
"""
