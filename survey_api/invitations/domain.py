"""Invitation rules: bulk creation with segment attributes, unguessable single-use tokens,
expiry, revocation and status."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

from shared import ids
from shared.cells import attribute_errors
from shared.storage import Invitation, Store, Survey, to_timestamp, utc_now
from shared.text import email_problem, text_problem

from shared.errors import Conflict, Invalid, NotFound

MAX_PER_REQUEST = 10_000
FINAL = ("completed", "revoked")


def create_invitations(store: Store, survey: Survey, items: list[dict], base_url: str,
                       now: datetime | None = None, token_for=None) -> list[dict]:
    """Validate every item first, then store all of them in one write (all or nothing).
    Returns each invitation with its link; the token appears only in this return value.
    token_for(invitation_id) gives a token that can be worked out again (the console's
    recoverable links); by default each token is random and unrecoverable."""
    if survey.status == "closed":
        raise Conflict("The survey is closed; it takes no more invitations.")
    if len(items) > MAX_PER_REQUEST:
        raise Invalid(f"At most {MAX_PER_REQUEST} invitations per request.",
                      [{"field": "invitations", "reason": f"Got {len(items)}."}])
    now = now or datetime.now(timezone.utc)
    default_expiry = now + timedelta(days=survey.settings.get("invitation_ttl_days", 30))
    errors: list[dict] = []
    for position, item in enumerate(items):
        errors += attribute_errors(survey.segments, item.get("attributes") or {},
                                   f"invitations.{position}.attributes")
        expires = item.get("expires_at")
        if expires is not None and expires <= now:
            errors.append({"field": f"invitations.{position}.expires_at",
                           "reason": "Must be in the future."})
    if errors:
        raise Invalid(f"{len(errors)} invitation field(s) are invalid; none were created.",
                      errors)
    created, records = [], []
    for item in items:
        invitation_id = ids.new_id()
        token = token_for(invitation_id) if token_for else ids.new_token(24)  # 192 random bits
        record = Invitation(
            id=invitation_id, org_id=survey.org_id, survey_id=survey.id,
            token_hash=ids.hash_secret(token), attributes=item.get("attributes") or {},
            expires_at=to_timestamp(item.get("expires_at") or default_expiry),
            email=item.get("email"), status="sent" if item.get("sent") else "created",
            name=item.get("name"), language=item.get("language"),
        )
        records.append(record)
        created.append({**present(record), "token": token,
                        "url": f"{base_url.rstrip('/')}/s/{token}"})
    store.invitations.add_many(records)
    return created


def parse_csv(text: str, survey: Survey) -> list[dict]:
    """Rows of email, expires_at (optional) and one column per segment attribute."""
    # newline="" semantics: a line break inside a quoted cell is data, not the end of a row.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _parse_rows(reader, survey)
    except csv.Error as exc:
        raise Invalid("The CSV cannot be read.",
                      [{"field": f"line {reader.line_num}", "reason": str(exc)}]) from None


def _parse_rows(reader: csv.DictReader, survey: Survey) -> list[dict]:
    if not reader.fieldnames:
        raise Invalid("The CSV is empty.", [{"field": "body", "reason": "No header row."}])
    known = {"email", "expires_at", "sent"} | set(survey.segments)
    unknown = [c for c in reader.fieldnames if c not in known]
    if unknown:
        raise Invalid("The CSV has unknown columns.",
                      [{"field": f"columns.{c}", "reason": "Not email, expires_at, sent or a "
                        f"segment of this survey ({', '.join(sorted(survey.segments))})."}
                       for c in unknown])
    items, errors = [], []
    for line, row in enumerate(reader, start=2):
        if len(items) >= MAX_PER_REQUEST:
            raise Invalid(f"At most {MAX_PER_REQUEST} invitations per request.",
                          [{"field": "body", "reason": "Too many rows."}])
        # Every cell is one line of text, as in the JSON body.
        bad = [(column, text_problem(value, single_line=True)) for column, value in row.items()
               if isinstance(value, str)]
        errors += [{"field": f"line {line}.{column}", "reason": reason}
                   for column, reason in bad if reason]
        if any(reason for _, reason in bad):
            continue
        item: dict = {"attributes": {k: v for k, v in row.items()
                                     if k in survey.segments and v}}
        if row.get("email"):
            item["email"] = row["email"].strip()
            reason = email_problem(item["email"])  # the check the JSON body's field makes
            if reason:
                errors.append({"field": f"line {line}.email", "reason": reason})
        if row.get("sent"):
            item["sent"] = row["sent"].strip().lower() in ("1", "true", "yes")
        if row.get("expires_at"):
            try:
                expires = datetime.fromisoformat(row["expires_at"].strip().replace("Z", "+00:00"))
                item["expires_at"] = expires if expires.tzinfo else expires.replace(
                    tzinfo=timezone.utc)
            except ValueError:
                errors.append({"field": f"line {line}.expires_at",
                               "reason": "Not an ISO-8601 date and time."})
        items.append(item)
    if errors:
        raise Invalid("Some CSV rows are invalid; none were created.", errors)
    return items


def is_expired(invitation: Invitation, now: str | None = None) -> bool:
    return invitation.status not in FINAL and invitation.expires_at <= (now or utc_now())


def present(invitation: Invitation) -> dict:
    """The invitation as clients see it: status reads "expired" once the link has lapsed."""
    status = "expired" if is_expired(invitation) else invitation.status
    return {"id": invitation.id, "survey_id": invitation.survey_id, "email": invitation.email,
            "attributes": invitation.attributes, "status": status,
            "expires_at": invitation.expires_at, "response_id": invitation.response_id,
            "language": invitation.language, "created_at": invitation.created_at, "updated_at": invitation.updated_at}


def get_invitation(store: Store, survey: Survey, invitation_id: str) -> Invitation:
    invitation = store.invitations.get(survey.org_id, invitation_id)
    if invitation is None or invitation.survey_id != survey.id:
        raise NotFound(f"No invitation {invitation_id} in this survey.")
    return invitation


def revoke(store: Store, survey: Survey, invitation_id: str) -> Invitation:
    invitation = get_invitation(store, survey, invitation_id)
    if invitation.status == "completed":
        raise Conflict("The invitation has been completed; there is nothing to revoke.")
    if invitation.status == "revoked":
        return invitation
    return store.invitations.update(survey.org_id, invitation_id, {"status": "revoked"})


def mark_sent(store: Store, survey: Survey, invitation_id: str) -> Invitation:
    invitation = get_invitation(store, survey, invitation_id)
    if invitation.status != "created":
        return invitation  # already further along: a retried call changes nothing
    return store.invitations.update(survey.org_id, invitation_id, {"status": "sent"})
