"""COMPARE: two versions of a project -> graded changes, a change report and notices.

Where versions come from (a folder, ``git:REV``, ``policy@version``), the facts and prose diff,
the classification rules, the JSON report and the notice texts.
"""
