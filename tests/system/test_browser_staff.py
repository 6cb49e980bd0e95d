"""The vendor staff self-assessment (how-we-sell) on a phone, in Debian's Chromium: a salesperson
completes it at 390 px and the stored response holds exactly what the same choices posted to the
JSON API hold; the page of questions asked at every buying step stays within its height budget;
axe, the keyboard and no JavaScript on that page. Screenshots go to tests/output/screens
(staff-phone-*)."""

from __future__ import annotations

import random
import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from shared.extensions import get_store

from tests.support.browser import next_page, open_survey_site, served_survey_api, shoot
from tests.support.factories import builtin, complete_answers

PHONE_SCREEN = 844  # an iPhone 12-14 screen, at 390 px wide
STEPS_PAGE = "What we offer at each step"
# Before the steps were laid out as rows the page was 3871 px at 390 px (4.6 screens); now
# about 2330 px.
STEPS_PAGE_SCREENS = 3
VENDOR = builtin("how-we-sell")
JOBS = ("problem", "explore", "requirements", "selection", "validation", "consensus")


@pytest.fixture
def site(settings, tenant):
    with served_survey_api(settings) as (app, server):
        yield {**open_survey_site(app, server, tenant.headers(), {
            "name": "Q1 staff view (internal)", "segments": {"region": ["emea", "americas"]},
            "branding": {"vendor_name": "Acme Analytics", "accent_color": "#0b7285"}}),
            "app": app}


def _phone(browser, **options):
    context = browser.new_context(viewport={"width": 390, "height": PHONE_SCREEN}, **options)
    return context, context.new_page()


def _answer(page, answers: dict) -> None:
    """Make exactly these choices among the questions on the page (nothing else)."""
    for qid, value in answers.items():
        inputs = page.locator(f"form [name='{qid}']")
        if not inputs.count():
            continue
        kind = inputs.first.get_attribute("type")
        if kind in ("radio", "checkbox"):
            for one in value if isinstance(value, list) else [value]:
                page.locator(f"form input[name='{qid}'][value='{one}']").check()
        else:
            inputs.first.fill(str(value))


def _height(page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


def test_a_salesperson_completes_it_on_a_phone_and_it_stores_what_the_api_would(browser, site):
    answers = complete_answers(VENDOR, random.Random(11), role="sales")
    del answers["job_explore_value"]  # optional, left blank on the phone
    answers["job_problem_modes"] = ["self_serve", "remote_person", "in_person"]
    # Ticked boxes are a set: a browser sends them in the order the page shows them.
    questions = {q["id"]: q for s in VENDOR["sections"] for q in s["questions"]}
    for qid, value in answers.items():
        if questions[qid]["type"] == "multiple_choice":
            answers[qid] = [o["value"] for o in questions[qid]["options"] if o["value"] in value]
    context, page = _phone(browser)
    page.goto(site["links"]["staff"])
    heights = {}
    for number in range(1, 8):
        if page.locator("h1", has_text="Thank you").count():
            break
        title = page.locator("h1").inner_text()
        heights[title] = _height(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, title
        shoot(page, f"staff-phone-step-{number}-390")
        _answer(page, answers)
        if title == STEPS_PAGE:
            # A row per step, named once; every question keeps its own fieldset and full text.
            rows = page.locator("fieldset.step-row")
            assert rows.count() == 12
            assert rows.first.locator("legend").evaluate(
                "legend => legend.firstChild.textContent") == "Recognising the problem"
            assert page.get_by_role("group", name=re.compile(
                r"^Recognising the problem ?: how can customers work with us at this step\? "
                r"\(required\)$")).count() == 1
            assert page.locator("section.steps h2").all_inner_texts() == [
                "How can customers work with us at this step?",
                "What do we provide at this step?"]
            # A step's four ways of working are one line of boxes under labels shown once.
            tops = {round(box["y"]) for box in (chip.bounding_box() for chip in
                                                rows.first.locator(".chip").all())}
            assert len(tops) == 1 and rows.first.locator(".chip").count() == 4
            assert page.locator(".steps-head .steps-label").all_inner_texts() == [
                "On my own, online", "With a person, by video or phone",
                "With a person, face to face", "We do not support this step"]
            assert page.get_by_role("checkbox", name="With a person, face to face").count() == 6
            shoot(page, "staff-phone-steps-answered-390")
        next_page(page)
    assert page.locator("h1", has_text="Thank you").is_visible()
    context.close()

    assert heights[STEPS_PAGE] <= STEPS_PAGE_SCREENS * PHONE_SCREEN, heights

    [from_phone] = [r for r in site["responses"]() if r["instrument"] == "vendor"]
    posted = site["client"].post(f"/v1/surveys/{site['survey']['id']}/responses", json={
        "submission_id": "same-choices-by-api", "instrument": "vendor", "answers": answers,
        "language": "en"},  # as the form records the language it was answered in
        headers=site["headers"])
    assert posted.status_code == 201, posted.get_json()
    from_api = posted.get_json()
    assert from_phone["complete"] and from_api["complete"]
    assert from_phone["answers"] == from_api["answers"] == answers
    assert from_phone["attributes"] == from_api["attributes"] == {"role": "sales"}
    # What scoring reads: the per-cell counters, each counted once by each response.
    with site["app"].app_context():
        cells = get_store().aggregates.for_survey(site["survey"]["id"])
    counters = cells["vendor|role=sales"]
    assert counters["job_problem_modes=in_person"] == 2
    odd = {k: v for k, v in counters.items() if v % 2}
    assert odd == {}, odd


def test_the_steps_page_passes_axe_works_by_keyboard_and_shows_errors_by_row(browser, site):
    axe = Axe()
    problems = []
    context, page = _phone(browser)
    page.goto(site["links"]["staff"])
    while page.locator("h1").inner_text() != STEPS_PAGE:
        _answer(page, complete_answers(VENDOR, random.Random(2), role="marketing"))
        next_page(page)
    next_page(page)  # nothing chosen: every step's required "how" question is named
    summary = page.locator(".error-summary a")
    assert summary.count() == 6
    assert summary.first.get_attribute("href") == "#q-job_problem_modes"
    assert page.locator("fieldset.step-row.has-error").count() == 6
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": PHONE_SCREEN})
        shoot(page, f"staff-phone-steps-errors-{width}")
        problems += [(width, v["id"], v["help"]) for v in axe.run(page).response["violations"]
                     if v.get("impact") in ("serious", "critical")]
    page.set_viewport_size({"width": 390, "height": PHONE_SCREEN})
    # The keyboard alone: Tab reaches each button of the first step in turn, Space ticks it.
    page.locator("input[name=job_problem_modes]").first.focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    assert page.evaluate("document.activeElement.value") == "remote_person"
    for job in JOBS:
        page.locator(f"input[name=job_{job}_modes][value=in_person]").check()
    page.locator("input[name=job_problem_modes]").first.focus()
    shoot(page, "staff-phone-steps-focus-390")
    next_page(page)
    assert page.locator("h1").inner_text() == "Content and channels"
    context.close()
    assert problems == []
    [draft] = site["responses"]()
    assert draft["answers"]["job_problem_modes"] == ["self_serve", "remote_person", "in_person"]
    assert draft["answers"]["job_consensus_modes"] == ["in_person"]
    assert not any(k.endswith("_value") for k in draft["answers"])


def test_the_steps_page_works_without_javascript(browser, site):
    context, page = _phone(browser, java_script_enabled=False)
    page.goto(site["links"]["staff"])
    while page.locator("h1").inner_text() != STEPS_PAGE:
        _answer(page, complete_answers(VENDOR, random.Random(4), role="leadership"))
        next_page(page)
    _answer(page, {f"job_{job}_modes": ["not_offered"] for job in JOBS} |
            {"job_validation_value": ["pricing", "peer_references"]})
    next_page(page)
    assert page.locator("h1").inner_text() == "Content and channels"
    context.close()
    [draft] = site["responses"]()
    assert draft["answers"]["job_selection_modes"] == ["not_offered"]
    assert draft["answers"]["job_validation_value"] == ["pricing", "peer_references"]
