"""The web form's rules, without Flask: which pages a respondent sees, reading a posted page
into typed answers, validating one page, and where to resume."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from shared.instruments import validator_for
from shared.storage import utc_now
from shared.text import text_problem

NUMERIC = ("likert_5", "scale_0_10", "percent")
STAFF_SALT = "staff-link"
STAFF_RESPONSE_CAP = 200  # default most staff answers per survey (setting staff_response_cap)


def staff_token(secret: str, survey_id: str, link_id: str) -> str:
    """A staff link token: signed, naming the survey and its current staff link, so rotating
    the link (a new id) ends every older token."""
    return URLSafeSerializer(secret, salt=STAFF_SALT).dumps({"s": survey_id, "k": link_id})


def read_staff_token(secret: str, token: str) -> tuple[str, str] | None:
    """(survey id, link id) from a token, or None if it is forged or of another shape."""
    try:
        payload = URLSafeSerializer(secret, salt=STAFF_SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), str) or \
            not isinstance(payload.get("k"), str):
        return None
    return payload["s"], payload["k"]


def staff_link_state(survey, link_id: str, now: str | None = None) -> str:
    """"valid", "replaced" (rotated since) or "expired"."""
    current = survey.staff_link or {}
    if current.get("id") != link_id:
        return "replaced"
    if current.get("expires_at", "") <= (now or utc_now()):
        return "expired"
    return "valid"


def links(base_url: str, secret: str, survey) -> dict:
    base = base_url.rstrip("/")
    link = survey.staff_link or {}
    return {"staff": f"{base}/staff/{staff_token(secret, survey.id, link['id'])}"
            if link.get("id") else None,
            "staff_expires_at": link.get("expires_at"),
            "anonymous": f"{base}/a/{survey.id}" if survey.settings.get("anonymous_link")
            else None}


@dataclass(frozen=True)
class Page:
    number: int  # 1-based
    section: dict
    questions: list[dict]


def pages_for(definition: dict, known_attributes: dict) -> list[Page]:
    """One page per section, without the questions whose answer the invitation already carries
    (its segment attributes); a section left empty is skipped."""
    pages = []
    for section in definition["sections"]:
        questions = [q for q in section["questions"]
                     if not (q.get("segment") and q["segment"] in known_attributes)]
        if questions:
            pages.append(Page(len(pages) + 1, section, questions))
    return pages


def read_page(questions: list[dict], form) -> tuple[dict, list[dict]]:
    """Typed answers from a posted page (a MultiDict), and errors for what cannot be read."""
    answers: dict = {}
    errors: list[dict] = []
    for q in questions:
        qid, kind = q["id"], q["type"]
        if kind == "multiple_choice":
            chosen = [v for v in form.getlist(qid) if v]
            answers[qid] = chosen or None
        elif kind == "ranking":
            ranked = [form.get(f"{qid}__rank{i}", "") for i in range(1, _ranks(q) + 1)]
            ranked = [v for v in ranked if v]
            if len(set(ranked)) != len(ranked):
                errors.append({"field": qid, "reason": "Each option can be placed only once."})
                answers[qid] = None
            else:
                answers[qid] = ranked or None
        elif kind in NUMERIC:
            raw = (form.get(qid) or "").strip()
            if not raw:
                answers[qid] = None
            else:
                try:
                    answers[qid] = int(raw)
                except ValueError:
                    low, high = {"likert_5": (1, 5), "scale_0_10": (0, 10),
                                 "percent": (0, 100)}[kind]
                    errors.append({"field": qid, "reason": f"Enter a whole number from {low} "
                                                           f"to {high}."})
                    answers[qid] = None
        else:
            value = form.get(qid)
            answers[qid] = value.strip() if isinstance(value, str) and value.strip() else None
            if answers[qid] and text_problem(answers[qid]):  # the API's rule for free text
                errors.append({"field": qid, "reason": "Remove the invisible control "
                                                       "characters from this answer."})
                answers[qid] = None
    return answers, errors


def _ranks(question: dict) -> int:
    return question.get("max_choices", len(question["options"]))


def check_page(instrument, questions: list[dict], answers: dict, *, enforce_required: bool
               ) -> tuple[dict, list[dict]]:
    """The page's answers cleaned by the instrument's compiled validator; errors name the
    question id, with a sentence a respondent understands."""
    validator = validator_for(instrument)
    mine = {q["id"]: answers.get(q["id"]) for q in questions}
    clean, problems = validator.validate({k: v for k, v in mine.items() if v is not None},
                                         complete=False)
    errors = [{"field": e["field"].split(".", 1)[1], "reason": e["reason"]} for e in problems]
    if enforce_required:
        for q in questions:
            if q.get("required") and q["id"] not in clean and not any(
                    e["field"] == q["id"] for e in errors):
                errors.append({"field": q["id"], "reason": _required_message(q)})
    return clean, errors


def _required_message(question: dict) -> str:
    if question["type"] in ("single_choice", "likert_5", "scale_0_10"):
        return "Please choose an answer."
    if question["type"] == "multiple_choice":
        return "Please choose at least one."
    if question["type"] == "ranking":
        return "Please place at least one option."
    return "Please answer this question."


def resume_page(pages: list[Page], answers: dict) -> int:
    """The first page with a required question still unanswered (1-based)."""
    for page in pages:
        if any(q.get("required") and q["id"] not in answers for q in page.questions):
            return page.number
    return len(pages)


def with_vendor(text: str, vendor: str) -> str:
    return text.replace("{vendor}", vendor)


def readable_text_color(hex_color: str) -> str:
    """Black or white, whichever has the higher WCAG contrast on the accent colour."""
    hex_color = hex_color.lstrip("#")
    channels = [int(hex_color[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000000" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#ffffff"
