"""A survey's campaign as the console runs it: the CRM's CSV checked row by row before
anything is stored, recoverable invitation links, invitation and reminder mails, opt-outs,
and progress by segment. Plain functions over the store (no Flask).

Recoverable links: a console invitation's token is an HMAC of its id under a key derived from
SECRET_KEY, so the link can be worked out again for a CSV download or a reminder without
storing it; the store still holds only the token's hash, as for API invitations (whose random
tokens stay unrecoverable). Whoever holds SECRET_KEY can already sign staff and brief links,
so this adds no new secret to guard. Rotating SECRET_KEY keeps every sent link working (the
hash is stored) but makes the old links unrecoverable: the console then says so.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

from shared import ids
from shared.cells import attribute_errors
from shared.instrument_languages import default_language
from shared.storage import Invitation, OutboxMail, Store, Survey, to_timestamp, utc_now

from ..invitations.domain import MAX_PER_REQUEST, create_invitations, is_expired
from ..surveys.domain import instruments_of
from .mail_texts import mail_language, survey_mail
from .mailer import JOB as REMINDER_JOB
from .users import EMAIL

IGNORE = ""
BUILT_IN_TARGETS = ("email", "name", "language")
LANGUAGE = re.compile(r"^[a-z]{2}(-[A-Za-z]{2})?$")
_ALIASES = {"email": "email", "e_mail": "email", "email_address": "email", "mail": "email",
            "name": "name", "full_name": "name", "contact": "name", "contact_name": "name",
            "first_name": "name", "language": "language", "lang": "language",
            "locale": "language"}
DEFAULT_REMINDERS = {"max_reminders": 2, "min_days_apart": 3, "auto": False}
REMINDER_CHECK = timedelta(days=1)  # how often automatic reminders look for who is due


# -- links ------------------------------------------------------------------------------------

def link_token(secret: str, invitation_id: str) -> str:
    key = hashlib.sha256(f"invitation-links|{secret}".encode()).digest()
    mac = hmac.new(key, invitation_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode()  # 192 bits, like a random token


def link_of(secret: str, base_url: str, invitation: Invitation) -> str | None:
    """The invitation's link, or None if it cannot be worked out (made through the API, or
    before SECRET_KEY changed)."""
    token = link_token(secret, invitation.id)
    if not hmac.compare_digest(ids.hash_secret(token), invitation.token_hash):
        return None
    return f"{base_url.rstrip('/')}/s/{token}"


# -- the CRM's CSV ----------------------------------------------------------------------------

@dataclass
class Preview:
    columns: list[str]
    mapping: dict[str, str]  # column -> email, name, language, a segment, or "" (ignored)
    items: list[dict] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)  # {"row": n, "values": {...}} as read
    errors: list[dict] = field(default_factory=list)  # {"row": n, "column": c, "reason": r}
    problem: str | None = None  # the file as a whole cannot be used

    @property
    def ok(self) -> bool:
        return not self.problem and not self.errors and bool(self.items)


def targets(survey: Survey) -> list[str]:
    return [*BUILT_IN_TARGETS, *sorted(survey.segments)]


def guess_mapping(columns: list[str], survey: Survey) -> dict[str, str]:
    mapping = {}
    for column in columns:
        name = re.sub(r"[^a-z0-9]+", "_", column.strip().lower()).strip("_")
        target = _ALIASES.get(name) or (name if name in survey.segments else IGNORE)
        mapping[column] = target if target not in mapping.values() else IGNORE
    return mapping


def preview_csv(store: Store, survey: Survey, text: str,
                mapping: dict[str, str] | None = None) -> Preview:
    """Read and check every row; nothing is stored. Rows are numbered as a spreadsheet shows
    them: the header is row 1, the first person row 2."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        table = list(reader)
    except csv.Error as exc:
        return Preview([], {}, problem=f"The file cannot be read as CSV (row {reader.line_num}"
                                       f"): {exc}.")
    if not table or not any(cell.strip() for cell in table[0]):
        return Preview([], {}, problem="The file is empty: it needs a header row naming the "
                                       "columns, then one row per person.")
    columns = [c.strip() for c in table[0]]
    if len(set(columns)) != len(columns):
        return Preview(columns, {}, problem="Two columns have the same name in the header row.")
    guessed = guess_mapping(columns, survey)
    mapping = {c: (mapping or {}).get(c, guessed[c]) for c in columns}
    preview = Preview(columns, mapping)
    allowed = set(targets(survey))
    chosen = [t for t in mapping.values() if t]
    if any(t not in allowed for t in chosen) or len(set(chosen)) != len(chosen):
        preview.problem = "Each column can be used once, for e-mail, name, language or one " \
                          "segment."
        return preview
    if "email" not in chosen:
        preview.problem = "Choose the column that holds the e-mail addresses."
        return preview
    body = [row for row in table[1:] if any(cell.strip() for cell in row)]
    if len(body) > MAX_PER_REQUEST:
        preview.problem = f"At most {MAX_PER_REQUEST:,} people per upload; this file has " \
                          f"{len(body):,}."
        return preview
    known = _emails_in(store, survey)
    email_column = next(c for c, t in mapping.items() if t == "email")
    seen: dict[str, int] = {}
    for number, row in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {c: (row[i].strip() if i < len(row) else "") for i, c in enumerate(columns)}
        preview.rows.append({"row": number, "values": values})
        item, problems = _read_row(values, mapping, survey)
        email = item.get("email", "")
        if email and email in seen:
            problems.append((email_column, f"The same e-mail address as row {seen[email]}."))
        elif email and email in known:
            problems.append((email_column,
                             "This person already has an invitation to this survey."))
        seen.setdefault(email, number)
        preview.errors += [{"row": number, "column": column, "reason": reason}
                           for column, reason in problems]
        preview.items.append(item)
    if not preview.items:
        preview.problem = "The file has a header row but no people."
    return preview


def _read_row(values: dict, mapping: dict, survey: Survey) -> tuple[dict, list]:
    by_target = {target: column for column, target in mapping.items() if target}
    item: dict = {"attributes": {}}
    problems = []
    email = values.get(by_target["email"], "").lower()
    if not email:
        problems.append((by_target["email"], "The e-mail address is missing."))
    elif not EMAIL.match(email) or len(email) > 254:
        problems.append((by_target["email"], f"'{email}' is not an e-mail address."))
    item["email"] = email
    if "name" in by_target and values.get(by_target["name"]):
        item["name"] = values[by_target["name"]][:200]
    if "language" in by_target and values.get(by_target["language"]):
        language = values[by_target["language"]]
        if LANGUAGE.match(language):
            item["language"] = language.lower()
        else:
            problems.append((by_target["language"],
                             f"'{language}' is not a language code such as en or de."))
    for name in survey.segments:
        column = by_target.get(name)
        if column and values.get(column):
            item["attributes"][name] = values[column]
    for error in attribute_errors(survey.segments, item["attributes"], "row"):
        name = error["field"].split(".", 1)[1]
        problems.append((by_target[name], f"'{item['attributes'][name]}' is not allowed: "
                                          + error["reason"].replace("Must be", "must be")))
    return item, problems


def _emails_in(store: Store, survey: Survey) -> set[str]:
    return {i.email for i in all_invitations(store, survey) if i.email}


def create_from_preview(store: Store, survey: Survey, preview: Preview, base_url: str,
                        secret: str) -> int:
    if not preview.ok:
        raise ValueError("the preview has problems")
    created = create_invitations(store, survey, preview.items, base_url,
                                 token_for=lambda invitation_id: link_token(secret,
                                                                            invitation_id))
    return len(created)


def all_invitations(store: Store, survey: Survey) -> list[Invitation]:
    out, after = [], None
    while True:
        page = store.invitations.list(survey.org_id, survey.id, after=after, limit=1000)
        out += page.items
        if page.next_cursor is None:
            return out
        after = page.next_cursor


def links_csv(store: Store, survey: Survey, base_url: str, secret: str) -> str:
    """Every invitation with its link (or why there is none), for the CRM or a mail tool."""
    buffer = io.StringIO()
    names = sorted(survey.segments)
    writer = csv.writer(buffer)
    writer.writerow(["email", "name", "language", *names, "status", "link"])
    for invitation in all_invitations(store, survey):
        link = link_of(secret, base_url, invitation) or "(made through the API: not recoverable)"
        writer.writerow([_defused(v) for v in (
            invitation.email or "", invitation.name or "", invitation.language or "",
            *(invitation.attributes.get(n, "") for n in names), state_of(invitation), link)])
    return buffer.getvalue()


def _defused(value: str) -> str:
    """Spreadsheets run cells that start like a formula; such text gets a leading quote."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def state_of(invitation: Invitation) -> str:
    if invitation.opted_out_at and invitation.status != "completed":
        return "opted out"
    if is_expired(invitation):
        return "expired"
    if invitation.status in ("created", "sent") and invitation.opened_at:
        return "opened"
    return invitation.status


# -- mail ---------------------------------------------------------------------------------

def reminder_policy(survey: Survey) -> dict:
    return {**DEFAULT_REMINDERS, **(survey.settings.get("reminders") or {})}


def _mailable(invitation: Invitation, now: str) -> bool:
    return bool(invitation.email) and not invitation.opted_out_at and \
        invitation.status in ("created", "sent", "started") and not is_expired(invitation, now)


def queue_invitations(store: Store, survey: Survey, base_url: str, secret: str,
                      now: datetime | None = None) -> int:
    """An invitation mail to everyone with an e-mail address who has had none yet."""
    stamp = to_timestamp(now or datetime.now(timezone.utc))
    chosen = [i for i in all_invitations(store, survey)
              if _mailable(i, stamp) and i.mails == 0 and link_of(secret, base_url, i)]
    return _queue(store, survey, chosen, "invitation", base_url, secret, stamp)


def due_reminders(store: Store, survey: Survey, now: datetime | None = None
                  ) -> list[Invitation]:
    """Who gets a reminder now: mailed before, not finished, not opted out, fewer reminders
    than the maximum, and the last mail at least the minimum number of days ago."""
    now = now or datetime.now(timezone.utc)
    policy = reminder_policy(survey)
    stamp = to_timestamp(now)
    latest = to_timestamp(now - timedelta(days=policy["min_days_apart"]))
    return [i for i in all_invitations(store, survey)
            if _mailable(i, stamp) and i.mails >= 1 and i.mails - 1 < policy["max_reminders"]
            and (i.last_mailed_at or "") <= latest]


def queue_reminders(store: Store, survey: Survey, base_url: str, secret: str,
                    now: datetime | None = None) -> int:
    now = now or datetime.now(timezone.utc)
    chosen = [i for i in due_reminders(store, survey, now) if link_of(secret, base_url, i)]
    return _queue(store, survey, chosen, "reminder", base_url, secret, to_timestamp(now))


def _queue(store: Store, survey: Survey, invitations: list[Invitation], kind: str,
           base_url: str, secret: str, stamp: str) -> int:
    if survey.status != "open":
        raise ValueError("Open the survey before sending invitations or reminders.")
    instrument = instruments_of(store, survey)["customer"]
    default = default_language(instrument.definition) if instrument else None
    mails = [replace(invitation_mail(survey, i, kind, link_of(secret, base_url, i), default),
                     next_attempt_at=stamp) for i in invitations]
    store.outbox.add_many(mails)
    for invitation in invitations:
        store.invitations.update(survey.org_id, invitation.id, {
            "mails": invitation.mails + 1, "last_mailed_at": stamp})
    return len(mails)


def invitation_mail(survey: Survey, invitation: Invitation, kind: str, link: str,
                    default_language: str | None = None) -> OutboxMail:
    """The invitation or reminder mail, in the invitation's language (else the survey's
    default_language, else English)."""
    brand = survey.branding or {}
    vendor = brand.get("vendor_name") or None
    language = mail_language(invitation.language, default_language)
    title = (brand.get("public_title_translations") or {}).get(language) \
        or brand.get("public_title") or survey.name
    subject, body = survey_mail(kind, language, title=title, vendor=vendor,
                                name=invitation.name, link=link,
                                contact_email=brand.get("contact_email"),
                                privacy_url=brand.get("privacy_url"))
    return OutboxMail(id=ids.new_id(), org_id=survey.org_id, to=invitation.email,
                      subject=subject, body=body, kind=kind, survey_id=survey.id,
                      invitation_id=invitation.id,
                      headers={"List-Unsubscribe": f"<{link}/opt-out>",
                               "X-Sender-Name": brand.get("vendor_name") or ""})


def schedule_reminders(store: Store, survey: Survey, now: datetime | None = None) -> None:
    """Automatic reminders: one pending job row in the outbox per survey, run now and then
    every REMINDER_CHECK while the survey is open and its rules say auto. Running twice does no
    harm (the rules see the last mail's time), so replacing a job is best effort."""
    stamp = to_timestamp(now or datetime.now(timezone.utc))
    for row in store.outbox.list(survey.org_id, survey.id, limit=1000):
        if row.kind == REMINDER_JOB and row.status == "pending":
            store.outbox.update(row.id, {"status": "cancelled"})
    if reminder_policy(survey)["auto"]:
        store.outbox.add_many([_reminder_job(survey, stamp)])


def _reminder_job(survey: Survey, due: str) -> OutboxMail:
    return OutboxMail(id=ids.new_id(), org_id=survey.org_id, to="", subject="automatic reminders",
                      body="", kind=REMINDER_JOB, survey_id=survey.id, next_attempt_at=due)


def run_reminder_job(store: Store, job: OutboxMail, base_url: str, secret: str,
                     now: datetime) -> int:
    """What a due reminder job does: queue the reminders due now, and come back tomorrow."""
    survey = store.surveys.get(job.org_id, job.survey_id or "")
    if survey is None or survey.status != "open" or not reminder_policy(survey)["auto"]:
        return 0
    queued = queue_reminders(store, survey, base_url, secret, now)
    store.outbox.add_many([_reminder_job(survey, to_timestamp(now + REMINDER_CHECK))])
    return queued


def opt_out(store: Store, invitation: Invitation) -> Invitation:
    if invitation.opted_out_at:
        return invitation
    return store.invitations.update(invitation.org_id, invitation.id,
                                    {"opted_out_at": utc_now()})


def mark_opened(store: Store, invitation: Invitation) -> None:
    if not invitation.opened_at:
        store.invitations.update(invitation.org_id, invitation.id, {"opened_at": utc_now()})


# -- progress ---------------------------------------------------------------------------------

STAGES = ("invited", "mailed", "opened", "started", "completed")


def _stages(invitation: Invitation) -> dict[str, bool]:
    done = invitation.status == "completed"
    started = done or invitation.status == "started"
    return {"invited": invitation.status != "revoked",
            "mailed": invitation.mails > 0 or invitation.status != "created",
            "opened": started or bool(invitation.opened_at),
            "started": started, "completed": done}


def progress(store: Store, survey: Survey) -> dict:
    """Counts at each stage (each includes the later ones: a completed invitation was also
    opened and started), overall and for each value of each segment, with the response rate
    (completed of invited, revoked invitations left out)."""
    def empty():
        return dict.fromkeys(STAGES, 0)
    overall, by_segment = empty(), {name: {v: empty() for v in values}
                                    for name, values in survey.segments.items()}
    opted_out = 0
    for invitation in all_invitations(store, survey):
        stages = _stages(invitation)
        if not stages["invited"]:
            continue
        opted_out += bool(invitation.opted_out_at) and not stages["completed"]
        for counts in [overall] + [by_segment[n][v] for n, v in invitation.attributes.items()
                                   if n in by_segment and v in by_segment[n]]:
            for stage, reached in stages.items():
                counts[stage] += reached
    return {"overall": {**overall, "rate": _rate(overall), "opted_out": opted_out},
            "segments": {name: [{"value": v, **c, "rate": _rate(c)} for v, c in values.items()
                                if c["invited"]]
                         for name, values in by_segment.items()}}


def _rate(counts: dict) -> float | None:
    return counts["completed"] / counts["invited"] if counts["invited"] else None


def web_link_counts(store: Store, survey: Survey) -> dict:
    """Completed answers through the anonymous link and the staff link."""
    anonymous = staff = 0
    after = None
    while True:
        page = store.responses.list(survey.org_id, survey.id, after=after, limit=1000,
                                    filters={"source": "web", "complete": True})
        for response in page.items:
            if response.instrument == "vendor":
                staff += 1
            elif response.invitation_id is None:
                anonymous += 1
        if page.next_cursor is None:
            return {"anonymous": anonymous, "staff": staff}
        after = page.next_cursor
