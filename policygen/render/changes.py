"""Render stage, change outputs: graded reports -> the files ``diff --output`` writes.

``report.json``, and per policy and locale the redline page and, when there are major changes,
the notice texts (banner, one line per change, e-mail subject and body).
"""

from __future__ import annotations

import json
from typing import Any

from policygen.changes.compare import PolicyReport
from policygen.render.redline import redline


def change_files(reports: list[PolicyReport], data: dict[str, Any]) -> dict[str, bytes]:
    """Relative path -> bytes of every file a diff writes; ``data`` is the JSON change report."""
    files = {"report.json": (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")}
    for report, entry in zip(reports, data["reports"], strict=True):
        for loc in report.new.locales:
            files[f"{report.policy_id}/redline.{loc}.html"] = redline(report, loc)
            notice = entry["notices"][loc]
            if notice["items"]:
                text = f"{notice['banner']}\n" + "".join(f"- {line}\n" for line in notice["items"])
                text += f"\n---\n{notice['email_subject']}\n\n{notice['email_body']}\n"
                files[f"{report.policy_id}/notices.{loc}.txt"] = text.encode("utf-8")
    return files
