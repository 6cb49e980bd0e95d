"""The web form's rules, without Flask: which pages a respondent sees, reading a posted page
into typed answers, validating one page, and where to resume."""

from __future__ import annotations

import re
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from shared.instruments import NOT_SURE, NUMBER_RANGES, conditions_of, validator_for
from shared.storage import utc_now
from shared.text import text_problem


def untranslated(message: str, **values) -> str:
    """The default `_` of the functions below: English, as gettext would give with no
    catalogue (the web form passes Flask-Babel's gettext, with the same signature)."""
    return message % values if values else message

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
    number: int  # 1-based, among the pages these answers show
    key: str  # stable whatever is shown: the section id, with ".2", ".3" for its later parts
    section: dict
    questions: list[dict]
    segments: tuple = ()  # custom segment attributes asked on this page (first page only)


def chunks(definition: dict) -> list[tuple[str, dict, list[dict]]]:
    """Each section as one page, split before a question whose condition (or options_from)
    reads an answer given on that same page: the server decides what to show, so the answer
    it depends on must have been sent first. Depends on the definition only."""
    parts: list[tuple[dict, list[dict]]] = []
    for section in definition["sections"]:
        part: list[dict] = []
        for q in section["questions"]:
            reads = condition_questions(q.get("show_if")) | (
                {q["options_from"]} if q.get("options_from") else set())
            if reads & {p["id"] for p in part}:
                parts.append((section, part))
                part = []
            part.append(q)
        parts.append((section, part))
    keyed, count = [], {}
    for section, part in parts:
        count[section["id"]] = n = count.get(section["id"], 0) + 1
        keyed.append((section["id"] if n == 1 else f"{section['id']}.{n}", section, part))
    return keyed


def condition_questions(condition) -> set[str]:
    if not condition:
        return set()
    if "all" in condition or "any" in condition:
        return set().union(*(condition_questions(c)
                             for c in condition.get("all", condition.get("any"))))
    return {condition["question"]}


def pages_for(definition: dict, known_attributes: dict, hidden: frozenset = frozenset(),
              segments: tuple = ()) -> list[Page]:
    """The pages these answers show: without the questions whose answer the invitation already
    carries (its segment attributes) or that a display condition hides; a page left empty is
    skipped. Custom segments not yet known are asked on the first page."""
    pages: list[Page] = []
    for key, section, part in chunks(definition):
        questions = [q for q in part if q["id"] not in hidden
                     and not (q.get("segment") and q["segment"] in known_attributes)]
        asked = segments if not pages and segments else ()
        if questions or asked:
            pages.append(Page(len(pages) + 1, key, section, questions, asked))
    return pages


def custom_segments(segments: dict[str, list[str]], names: list[str], asked_by_questions,
                    known: dict) -> tuple[dict, ...]:
    """The survey's own segment attributes (region, ...) that no question asks and the
    invitation does not carry: the form asks them, so anonymous answers are segmented too."""
    return tuple({"name": name, "values": list(segments[name])} for name in names
                 if name not in asked_by_questions and name not in known and name in segments)


def segment_label(value: str) -> str:
    """A readable label for a segment value: short codes (emea, apac) in capitals."""
    words = value.replace("_", " ").replace("-", " ")
    return words.upper() if len(words) <= 4 and words.isalpha() else words[:1].upper() + words[1:]


def read_page(questions: list[dict], form, segments: tuple = (),
              _=untranslated) -> tuple[dict, list[dict]]:
    """Typed answers from a posted page (a MultiDict), and errors for what cannot be read.
    Custom segment choices come back under "segment:<name>"."""
    answers: dict = {}
    errors: list[dict] = []
    for segment in segments:
        value = form.get(f"segment__{segment['name']}") or None
        if value is not None and value not in segment["values"]:
            errors.append({"field": f"segment__{segment['name']}",
                           "reason": _("Please choose one of the options shown.")})
            value = None
        answers[f"segment:{segment['name']}"] = value
    for q in questions:
        qid, kind = q["id"], q["type"]
        if kind == "multiple_choice":
            chosen = [v for v in form.getlist(qid) if v]
            answers[qid] = chosen or None
        elif kind == "ranking":
            ranked = [form.get(f"{qid}__rank{i}", "") for i in range(1, _ranks(q) + 1)]
            ranked = [v for v in ranked if v]
            source = rank_sources(questions).get(qid)
            ticked = set(form.getlist(source)) if source else None
            if len(set(ranked)) != len(ranked):
                errors.append({"field": qid, "reason": _("Each option can be placed only once.")})
                answers[qid] = None
            elif ticked is not None and not set(ranked) <= ticked:
                errors.append({"field": qid, "reason": _("Place only options you ticked above.")})
                answers[qid] = None
            else:
                answers[qid] = ranked or None
        elif kind in NUMBER_RANGES:
            raw = (form.get(qid) or "").strip()
            if not raw:
                answers[qid] = NOT_SURE if q.get("not_sure") and form.get(
                    f"{qid}__not_sure") else None
            else:
                try:
                    answers[qid] = int(raw)
                except ValueError:
                    low, high = NUMBER_RANGES[kind]
                    errors.append({"field": qid, "reason": _(
                        "Enter a whole number from %(low)s to %(high)s.", low=low, high=high)})
                    answers[qid] = None
        else:
            value = form.get(qid)
            answers[qid] = value.strip() if isinstance(value, str) and value.strip() else None
            if answers[qid] and text_problem(answers[qid]):  # the API's rule for free text
                errors.append({"field": qid, "reason": _("Remove the invisible control "
                                                         "characters from this answer.")})
                answers[qid] = None
    return answers, errors


def _ranks(question: dict) -> int:
    return question.get("max_choices", len(question["options"]))


def visible_answers(instrument, answers: dict) -> dict:
    """The answers without those to questions the other answers now hide (a respondent who
    goes back and changes an answer no longer answers what it hides)."""
    hidden = validator_for(instrument).hidden(answers)
    return {k: v for k, v in answers.items() if k not in hidden} if hidden else answers


def check_page(instrument, questions: list[dict], answers: dict, *, enforce_required: bool,
               context: dict | None = None, segments: tuple = (),
               _=untranslated) -> tuple[dict, list[dict]]:
    """The page's answers cleaned by the instrument's compiled validator, read together with
    the answers of the other pages (context) so that conditions see them; errors name the
    question id, with a sentence a respondent understands."""
    validator = validator_for(instrument)
    mine = {q["id"]: answers.get(q["id"]) for q in questions}
    given = {**(context or {}), **{k: v for k, v in mine.items() if v is not None}}
    # Required questions of other pages are theirs to enforce.
    checked = validator.check(visible_answers(instrument, given), complete=enforce_required,
                              skip_required=validator.required_set - mine.keys())
    errors = []
    for error in checked.errors:  # the required ones last, in the order the page shows them
        qid = error["field"].split(".", 1)[1]
        if qid in mine:
            errors.append({"field": qid, "reason": _required_message(validator.questions[qid], _)
                           if qid in checked.unanswered else error["reason"]})
    clean = {k: v for k, v in checked.answers.items() if k in mine}
    if enforce_required:  # then the custom segments
        for segment in segments:
            if not answers.get(f"segment:{segment['name']}"):
                errors.append({"field": f"segment__{segment['name']}",
                               "reason": _("Please choose an answer.")})
    return clean, errors


def _required_message(question: dict, _=untranslated) -> str:
    if question["type"] in ("single_choice", "likert_5", "scale_0_10"):
        return _("Please choose an answer.")
    if question["type"] == "multiple_choice":
        return _("Please choose at least one.")
    if question["type"] == "ranking":
        return _("Please place at least one option.")
    if question.get("not_sure"):
        return _("Please enter a number, or tick \u201cNot sure\u201d.")
    return _("Please answer this question.")


def resume_page(pages: list[Page], answers: dict, attributes: dict | None = None) -> int:
    """The first page with a required question still unanswered (1-based)."""
    for page in pages:
        if any(q.get("required") and q["id"] not in answers for q in page.questions) or any(
                s["name"] not in (attributes or {}) for s in page.segments):
            return page.number
    return len(pages)


def expected_page_count(definition: dict, pages: list[Page], answers: dict,
                        known_attributes: dict) -> int:
    """How many pages to announce: those shown, plus those still waiting on an answer not given
    yet (a count that can only shrink as the respondent goes is kinder than one that grows)."""
    shown = {p.key for p in pages}
    conditions = conditions_of(definition)
    waiting = 0
    for key, _, part in chunks(definition):
        if key in shown:
            continue
        if any(q["id"] in conditions and not (q.get("segment") and q["segment"] in
                                              known_attributes)
               and any(r not in answers for r in condition_questions(conditions[q["id"]]))
               for q in part):
            waiting += 1
    return len(pages) + waiting


# Rough time to answer, in seconds, by kind of question (reading included): what the progress
# line's "about N minutes left" adds up.
SECONDS = {"single_choice": 9, "likert_5": 6, "scale_0_10": 6, "percent": 12,
           "multiple_choice": 15, "ranking": 20, "text": 25}


def minutes_left(instrument, pages: list[Page], current: int, answers: dict) -> int:
    """Minutes to finish from the start of page `current`: the questions these answers show,
    plus half of those whose condition waits on an answer not given yet."""
    seconds = 0.0
    for page in pages[current - 1:]:
        seconds += sum(SECONDS.get(q["type"], 10) for q in page.questions)
        seconds += SECONDS["single_choice"] * len(page.segments)
    shown = {q["id"] for page in pages for q in page.questions}
    pending = {q["id"] for page in pages[current - 1:] for q in page.questions}
    questions = validator_for(instrument).questions
    for qid, condition in conditions_of(instrument.definition).items():
        reads = condition_questions(condition)
        if qid not in shown and any(r not in answers or r in pending for r in reads):
            seconds += SECONDS.get(questions[qid]["type"], 10) / 2
    return max(1, round(seconds / 60))


def with_vendor(text: str, vendor: str) -> str:
    return text.replace("{vendor}", vendor)


def readable_text_color(hex_color: str) -> str:
    """Black or white, whichever has the higher WCAG contrast on the accent colour."""
    hex_color = hex_color.lstrip("#")
    channels = [int(hex_color[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000000" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#ffffff"


# -- who is asking, and what respondents are told ----------------------------------------

CONTACT_FIELDS = ("contact_email", "privacy_url", "website_url")
DEFAULT_PUBLIC_TITLE = "How your company buys"


def public_title(branding: dict, kind: str, vendor: str, _=untranslated,
                 language: str | None = None) -> str:
    """What respondents see as the survey's title: never the internal survey name; in the
    form's language when the survey translates it. Staff get their own title, as their
    questionnaire is a different one."""
    if kind == "vendor":
        return _("How %(vendor)s sells: a staff self-assessment", vendor=vendor) if vendor \
            else _("How we sell: a staff self-assessment")
    translated = (branding.get("public_title_translations") or {}).get(language or "")
    return (translated or branding.get("public_title")
            or _("How your company buys"))  # DEFAULT_PUBLIC_TITLE


def who_sees(kind: str, vendor: str, _=untranslated) -> str:
    if kind == "vendor":
        return _("Who sees your answers: the people at %(vendor)s who run this survey can read "
                 "each person's answers. Reports and briefs combine everyone's answers and never "
                 "say who gave which.", vendor=vendor)
    return _("Who sees your answers: %(vendor)s and the people who run this survey for them. "
             "Reports show answers only combined, in groups of at least five companies.",
             vendor=vendor)


def next_steps(brand: dict, _=untranslated) -> list[str]:
    vendor = brand.get("vendor") or _("The team that sent you this survey")
    if brand.get("kind") == "vendor":
        return [_("%(vendor)s's report sets the staff view beside what customers say: where the "
                  "two differ is where to start.", vendor=vendor),
                _("Your answers are combined with your colleagues'; nobody is named.")]
    return [_("%(vendor)s combines your answers with those of other customers to find where "
              "the way they sell does not match the way you buy.", vendor=vendor),
            _("Reports show answers only in groups of at least five companies, never one "
              "person's.")]


def segment_question(segment: dict, _=untranslated) -> str:
    return _("Which %(segment)s is your company in?", segment=segment['name'].replace('_', ' '))


# -- how a page's questions are laid out ----------------------------------------------------

def layout(questions: list[dict]) -> list[dict]:
    """Blocks for the template: a card per group of questions (a buying job's importance and
    preferred mode), a grid for three or more rating statements on one scale (its labels shown
    once), the same questions asked of every buying step as one list of steps per question (see
    step_series), else one question each."""
    blocks: list[dict] = []
    position = 0
    while position < len(questions):
        series, taken = step_series(questions[position:])
        if series:
            blocks.append({"kind": "steps", "series": series,
                           "questions": questions[position:position + taken]})
            position += taken
            continue
        _place(blocks, questions[position])
        position += 1
    for block in blocks:
        if block["kind"] == "run":
            block["kind"] = "question"
    out: list[dict] = []
    for block in blocks:  # a short run is just questions
        if block["kind"] == "question" and len(block["questions"]) > 1:
            out += [{"kind": "question", "questions": [q]} for q in block["questions"]]
        else:
            out.append(block)
    return out


def _place(blocks: list[dict], q: dict) -> None:
    last = blocks[-1] if blocks else None
    if q.get("group"):
        if last and last["kind"] == "card" and last["title"] == q["group"]:
            last["questions"].append(q)
        else:
            blocks.append({"kind": "card", "title": q["group"], "hint": q.get("group_hint"),
                           "questions": [q]})
    elif q["type"] == "likert_5" and last and last["kind"] in ("run", "grid") and \
            last["labels"] == (q.get("scale_labels") or []):
        last["questions"].append(q)
    elif q["type"] == "likert_5":
        blocks.append({"kind": "run", "labels": q.get("scale_labels") or [],
                       "questions": [q]})
    else:
        blocks.append({"kind": "question", "questions": [q]})
    if blocks[-1]["kind"] == "run" and len(blocks[-1]["questions"]) >= 3:
        blocks[-1]["kind"] = "grid"


# A step's name and what is asked of it share one question text: "Recognising the problem: how
# can customers work with us at this step?" (French puts a space before the colon).
STEP_TEXT = re.compile(r"^(?P<step>[^:]+?)\s*:\s*(?P<ask>\S.*)$", re.S)
STEP_CHOICES = ("single_choice", "multiple_choice")
MIN_STEPS = 3
MAX_COLUMNS = 5


def step_series(questions: list[dict]) -> tuple[list[dict], int]:
    """The same set of two or more choice questions asked of three or more buying steps in a
    row (how-we-sell: how customers can work with us, and what we provide, at each of six
    steps): one series per question of the set, each asked once with a row per step, the step
    named once per row instead of in every question. Returns (series, how many questions they
    take from the start of `questions`), or ([], 0) when the page does not start so.

    Only the layout changes: every question keeps its id, options and its own fieldset (its
    full text in the legend for screen readers)."""
    steps: list[list[tuple[dict, str, str]]] = []
    for q in questions:
        found = STEP_TEXT.match(q.get("text", "")) if q.get("job") else None
        if not found or q["type"] not in STEP_CHOICES or q.get("group") or q.get("show_if"):
            break
        entry = (q, found["step"], found["ask"])
        if steps and steps[-1][0][0]["job"] == q["job"]:
            steps[-1].append(entry)
        else:
            steps.append([entry])
    shape = _step_shape(steps[0]) if steps else None
    count = 0
    while count < len(steps) and _step_shape(steps[count]) == shape and \
            len({step for _, step, _ in steps[count]}) == 1:
        count += 1
    if count < MIN_STEPS or len(steps[0]) < 2:
        return [], 0
    series = [{"ask": steps[0][i][2], "title": steps[0][i][2][:1].upper() + steps[0][i][2][1:],
               "type": steps[0][i][0]["type"],
               # Few options (as a rating scale's five): their labels once above the rows.
               "columns": len(steps[0][i][0].get("options") or ()) <= MAX_COLUMNS,
               "rows": [{"step": steps[n][i][1], "question": steps[n][i][0]}
                        for n in range(count)]}
              for i in range(len(steps[0]))]
    return series, sum(len(steps[n]) for n in range(count))


def _step_shape(step: list[tuple[dict, str, str]]) -> tuple:
    """What must repeat from step to step: the asks, with their kinds and answer codes."""
    return tuple((ask, q["type"], tuple(o["value"] for o in q.get("options") or ()))
                 for q, _, ask in step)


def rank_sources(questions: list[dict]) -> dict[str, str]:
    """Ranking id -> the multiple choice on the same page it ranks from: named by options_from,
    or (instruments written before options_from, such as how-you-buy v1) an earlier question
    on the page offering the same options. The page's script then offers only what is ticked,
    and read_page refuses anything else."""
    out = {}
    for position, q in enumerate(questions):
        if q["type"] != "ranking":
            continue
        values = {o["value"] for o in q["options"]}
        for earlier in questions[:position]:
            if earlier["id"] == q.get("options_from") or (
                    not q.get("options_from") and earlier["type"] == "multiple_choice"
                    and {o["value"] for o in earlier["options"]} == values):
                out[q["id"]] = earlier["id"]
    return out


def options_for(question: dict, answers: dict) -> list[dict]:
    """A ranking with options_from offers only what was chosen in that earlier question."""
    source = question.get("options_from")
    if not source:
        return question.get("options") or []
    chosen = set(answers.get(source) or ())
    return [o for o in question["options"] if o["value"] in chosen]
