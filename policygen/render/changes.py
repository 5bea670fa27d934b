"""Render stage, change outputs: graded reports -> the files ``diff --output`` writes.

``report.json``; per policy and locale the redline (``redline.<locale>.html``), the changes-only
page (``redline-changes.<locale>.html``), with ``pdf`` the redline as PDF
(``redline.<locale>.pdf``), and, when there are major changes, the notice texts (banner, one
line per change, e-mail subject and body); and ``assets/``, the pages' stylesheet and fonts.
"""

from __future__ import annotations

import json
from typing import Any

from policygen.changes.compare import PolicyReport
from policygen.render.html import asset_files
from policygen.render.redline import redline_pages, redline_pdf


def change_files(reports: list[PolicyReport], data: dict[str, Any], pdf: bool = False) -> dict[str, bytes]:
    """Relative path -> bytes of every file a diff writes; ``data`` is the JSON change report."""
    files = {"report.json": (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")}
    for report, entry in zip(reports, data["reports"], strict=True):
        for loc in report.new.locales:
            pages = redline_pages(report, loc, assets="../assets/", pdf_href=f"redline.{loc}.pdf" if pdf else "",
                                  changes_href=f"redline-changes.{loc}.html", full_href=f"redline.{loc}.html")
            files[f"{report.policy_id}/redline.{loc}.html"] = pages.full
            files[f"{report.policy_id}/redline-changes.{loc}.html"] = pages.changes
            if pdf:
                files[f"{report.policy_id}/redline.{loc}.pdf"] = redline_pdf(report, pages, loc)
            notice = entry["notices"][loc]
            if notice["items"]:
                text = f"{notice['banner']}\n" + "".join(f"- {line}\n" for line in notice["items"])
                text += f"\n---\n{notice['email_subject']}\n\n{notice['email_body']}\n"
                files[f"{report.policy_id}/notices.{loc}.txt"] = text.encode("utf-8")
    if reports:
        files.update(asset_files(reports[0].new_project))
    return files
