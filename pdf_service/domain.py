"""Briefs: render a report, store it with its metadata, share it by signed link, e-mail it."""

from __future__ import annotations

import hashlib
import smtplib
import time
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from typing import NamedTuple
from urllib.parse import urlparse

from itsdangerous import BadData, URLSafeTimedSerializer

from shared import ids
from shared.storage import Brief, Store

from .brief.content import fmt, page_one, summary_lines
from .brief.render import render_brief

LINK_SALT = "brief-link"
MAX_LINK_HOURS = 720  # 30 days: a shared link is for reading a brief, not a standing door
MAX_RECIPIENTS = 10


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


class InvalidLink(Exception):
    """Not a link we made: cut short, changed, or signed with another secret."""


class ExpiredLink(Exception):
    pass


class SharedLink(NamedTuple):
    org_id: str
    brief_id: str
    generation: int  # the brief's share_generation when the link was made


def share_token(secret: str, brief: Brief, hours: int) -> str:
    """A signed link token: which brief, its share generation (revoking raises it) and how
    many hours it works; the signature carries the time it was made."""
    return URLSafeTimedSerializer(secret, salt=LINK_SALT).dumps(
        {"o": brief.org_id, "b": brief.id, "g": brief.share_generation, "h": hours})


def link_expiry(hours: int, now: float | None = None) -> str:
    moment = datetime.fromtimestamp(now if now is not None else time.time(), timezone.utc)
    return (moment + timedelta(hours=hours)).isoformat(timespec="seconds").replace("+00:00", "Z")


def read_share_token(secret: str, token: str, default_hours: int) -> SharedLink:
    """The link's brief; raises InvalidLink or ExpiredLink. Links made before links carried
    their hours and generation work for default_hours, in generation 0."""
    try:
        data, signed_at = URLSafeTimedSerializer(secret, salt=LINK_SALT).loads(
            token, return_timestamp=True)
    except BadData:
        raise InvalidLink() from None
    if not isinstance(data, dict):
        raise InvalidLink()
    org_id, brief_id = data.get("o"), data.get("b")
    generation, hours = data.get("g", 0), data.get("h", default_hours)
    if not (isinstance(org_id, str) and isinstance(brief_id, str)
            and type(generation) is int and type(hours) is int
            and 1 <= hours <= MAX_LINK_HOURS):
        raise InvalidLink()
    if time.time() - signed_at.timestamp() > hours * 3600:
        raise ExpiredLink()
    return SharedLink(org_id, brief_id, generation)


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
    # One line whatever the survey's name holds: a CR or LF in a header refuses the message.
    name = " ".join(str(brief.metadata.get("survey_name") or "").split())
    message["Subject"] = f"Buyer alignment brief: {name}"
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
