"""Briefs: render a report, store it with its metadata, share it by signed link, e-mail it."""

from __future__ import annotations

import hashlib
import smtplib
from email.message import EmailMessage
from urllib.parse import urlparse

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from shared import ids
from shared.storage import Brief, Store

from .brief.content import fmt, page_one, summary_lines
from .brief.render import render_brief

LINK_SALT = "brief-link"


def create_brief(store: Store, org_id: str, report: dict, audience: str,
                 segments: list[str] | None) -> Brief:
    pdf = render_brief(report, audience=audience, segments=segments)
    overall = report["overall"]
    first = page_one(report)  # what page 1 says, stored so the e-mail says the same
    brief = Brief(
        id=ids.new_id(), org_id=org_id, survey_id=report["survey_id"],
        metadata={"audience": audience, "segments": segments or [],
                  "model": report["model"], "responses": report["responses"],
                  "survey_name": (report.get("survey") or {}).get("name"),
                  "alignment": (overall.get("alignment") or {}).get("score"),
                  "readiness": (overall.get("readiness") or {}).get("score"),
                  "headline": first["headline"],
                  "scores": [{k: s[k] for k in ("key", "label", "score", "band", "confidence",
                                                "figure", "sure")} for s in first["scores"]],
                  "actions": first["actions"],
                  "top_actions": [a["name"] for a in first["actions"]]},
        checksum=hashlib.sha256(pdf).hexdigest(), size=len(pdf))
    return store.briefs.add(brief, pdf)


def share_token(secret: str, org_id: str, brief_id: str) -> str:
    return URLSafeTimedSerializer(secret, salt=LINK_SALT).dumps({"o": org_id, "b": brief_id})


def read_share_token(secret: str, token: str, max_age_seconds: int) -> tuple[str, str]:
    """(org_id, brief_id); raises SignatureExpired or BadSignature."""
    data = URLSafeTimedSerializer(secret, salt=LINK_SALT).loads(token, max_age=max_age_seconds)
    return data["o"], data["b"]


__all__ = ["BadSignature", "SignatureExpired"]


def summary_text(brief: Brief, link: str | None) -> str:
    """The e-mail body: page 1 of the brief, line for line (from the stored metadata)."""
    m = brief.metadata
    lines = [f"Buyer alignment brief: {m.get('survey_name') or brief.survey_id}",
             f"Prepared for: {m.get('audience')}", ""]
    if "headline" in m:
        lines += summary_lines(m)
    else:  # a brief stored before page 1 was kept in the metadata
        lines += [f"Alignment of selling with buying: {fmt(m.get('alignment'))} of 100",
                  f"Demand-generation readiness: {fmt(m.get('readiness'))} of 100"]
    lines.append("")
    if link:
        lines.append(f"Open the brief: {link}")
    lines.append("The full brief is attached as a PDF.")
    return "\n".join(lines)


def send_email(smtp_url: str, sender: str, recipients: list[str], brief: Brief, pdf: bytes,
               link: str | None) -> None:
    """One message to the recipients, with the PDF attached and a short summary as its body."""
    url = urlparse(smtp_url)
    message = EmailMessage()
    message["Subject"] = f"Buyer alignment brief: {brief.metadata.get('survey_name') or ''}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message.set_content(summary_text(brief, link))
    message.add_attachment(pdf, maintype="application", subtype="pdf",
                           filename=f"brief-{brief.id}.pdf")
    smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with smtp_class(url.hostname, url.port or (465 if url.scheme == "smtps" else 25),
                    timeout=15) as smtp:
        if url.username:
            if url.scheme == "smtp":
                smtp.starttls()
            smtp.login(url.username, url.password or "")
        smtp.send_message(message)
