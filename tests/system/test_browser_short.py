"""The shorter customer survey (how-you-buy v2, the default) in Debian's Chromium at 360, 390 and
1280 px: who is asking, conditions taken both ways, page heights and question counts measured,
Enter means Next, the slider and "Not sure", the end page, resume, the staff grid, and axe.
Screenshots of every page go to tests/output/screens (short-*)."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.support.browser import fill_page, next_page, open_survey_site, served_survey_api, shoot

PHONE_SCREEN = 844  # an iPhone 12-14 screen, at 390 px wide
JOBS = ("problem", "explore", "requirements", "selection", "validation", "consensus")
BRANDING = {"vendor_name": "Acme Analytics", "accent_color": "#0b7285",
            "public_title": "How you buy analytics software",
            "contact_email": "research@acme.example", "privacy_url": "https://acme.example/privacy",
            "website_url": "https://acme.example/"}


@pytest.fixture
def site(settings, tenant):
    with served_survey_api(settings) as (app, server):
        site = open_survey_site(app, server, tenant.headers(), {
            "name": "Q1 buyers (internal)", "segments": {"region": ["emea", "americas"]},
            "branding": BRANDING, "settings": {"anonymous_link": True}})
        assert site["survey"]["customer_instrument"]["version"] == 2  # new surveys: the short one
        yield site


def _page(browser, width):
    context = browser.new_context(viewport={"width": width, "height": PHONE_SCREEN})
    return context, context.new_page()


def _measure(page) -> dict:
    return page.evaluate("""() => ({
        height: document.documentElement.scrollHeight,
        width: document.documentElement.scrollWidth,
        questions: document.querySelectorAll('form .question').length,
        title: document.querySelector('h1').innerText,
        step: (document.querySelector('.step') || {}).innerText})""")


def _walk(page, answers: dict, name: str, widths=(390, 1280)) -> list[dict]:
    """Answer every page with `answers` (the rest as fill_page does), measuring each page at
    390 px and photographing it at each width, until the end page. Returns the measurements."""
    seen = []
    for _ in range(12):
        if page.locator("h1", has_text="Thank you").count():
            return seen
        measured = None
        for width in widths:
            page.set_viewport_size({"width": width, "height": PHONE_SCREEN})
            if width == 390:
                measured = _measure(page)
            shoot(page, f"{name}-step-{len(seen) + 1}-{width}")
        seen.append(measured)
        fill_page(page, answers)
        next_page(page)
    raise AssertionError("never reached the end page")


def _importance(values) -> dict:
    out = {}
    for job, value in zip(JOBS, values):
        out[f"job_{job}_importance"] = value
        out[f"job_{job}_mode"] = "in_person" if value >= 4 else "self_serve"
    return out


def test_a_median_customer_answers_25_questions_on_pages_under_three_phone_screens(browser,
                                                                                   site):
    """The invitation carries what the CRM knows (tenure, size, region); two buying jobs are
    important (so two "what would you want" questions), three sources ticked (no ranking)."""
    invitation = site["invite"](tenure="long_standing", size="large", region="emea")
    context, page = _page(browser, 390)
    page.goto(invitation["url"])
    # Who is asking: the vendor and the public title, never the internal name.
    header = page.locator("header").inner_text()
    assert "Acme Analytics" in header and "How you buy analytics software" in header
    assert "Q1 buyers" not in page.content()
    assert page.locator("text=Acme Analytics wants to understand").is_visible()
    assert "Who sees your answers" in page.locator(".who-sees").inner_text()
    assert page.locator("a[href='mailto:research@acme.example']").is_visible()
    assert page.locator("a[href='https://acme.example/privacy']").is_visible()
    assert "minutes left" in page.locator(".time-left").inner_text()
    answers = {**_importance([5, 3, 2, 4, 3, 1]), "buying_team_size": "4-6",
               "first_contact_percent": 55, "info_sources": ["search", "peers", "events"],
               "nps": 8, "job_problem_value": ["pricing", "demo"]}
    seen = _walk(page, answers, "short-median")
    # The end page: what happens next, the way back to the vendor, the contact.
    page.set_viewport_size({"width": 390, "height": PHONE_SCREEN})
    shoot(page, "short-thanks-390")
    page.set_viewport_size({"width": 1280, "height": PHONE_SCREEN})
    shoot(page, "short-thanks-1280")
    assert page.locator("h2", has_text="What happens next").is_visible()
    assert page.locator("a[href='https://acme.example/']").inner_text() == \
        "Go to Acme Analytics’s website"
    assert page.locator("a[href='mailto:research@acme.example']").is_visible()
    context.close()
    titles = [s["title"] for s in seen]
    assert titles == ["About you and your company", "The early part of buying",
                      "The later part of buying", "What you want from a supplier",
                      "Information and timing", "Your experience with Acme Analytics"]
    assert sum(s["questions"] for s in seen) == 25
    # Pages still waiting on an answer are announced, so the count only shrinks.
    assert [s["step"] for s in seen] == ["Step 1 of 7", "Step 2 of 7", "Step 3 of 7",
                                         "Step 4 of 7", "Step 5 of 7", "Step 6 of 6"]
    assert [s["questions"] for s in seen][3] == 2  # wanted: only the two important jobs
    assert max(s["height"] for s in seen) <= 3 * PHONE_SCREEN, seen
    assert all(s["width"] <= 390 for s in seen)  # nothing wider than the phone
    [stored] = site["responses"]()
    assert stored["complete"] and stored["answers"]["job_problem_value"] == ["pricing", "demo"]
    assert "job_explore_value" not in stored["answers"] and "top_sources" not in stored["answers"]
    assert stored["attributes"] == {"tenure": "long_standing", "size": "large", "region": "emea"}


def test_conditions_taken_the_other_way_and_custom_segments_asked_when_unknown(browser, site):
    """Anonymous: tenure, size and region are asked; no job important (the "what would you
    want" page is skipped), five sources ticked (ranked from those five only), "Not sure"."""
    context, page = _page(browser, 390)
    page.goto(site["links"]["anonymous"])
    assert page.locator("fieldset#q-segment__region").is_visible()
    assert page.locator("input[name=tenure]").count() == 3
    answers = {**_importance([3, 2, 3, 1, 2, 3]), "tenure": "new", "company_size": "small",
               "segment__region": "americas",
               "info_sources": ["search", "peers", "events", "social", "analysts"]}
    seen = []
    for _ in range(3):  # up to the information page
        seen.append(_measure(page))
        fill_page(page, answers)
        next_page(page)
    assert page.locator("h1").inner_text() == "Information and timing"  # wanted: skipped
    # The % box: empty, its slider without a thumb, and "Not sure" offered.
    assert page.locator("input[name=first_contact_percent]").input_value() == ""
    assert "untouched" in page.locator(".percent input[type=range]").get_attribute("class")
    fill_page(page, answers)
    page.locator("input[name=first_contact_percent]").fill("")
    page.locator("input[name=first_contact_percent__not_sure]").check()
    next_page(page)
    assert page.locator("h1").inner_text() == "The sources you trust most"
    offered = page.locator("#rank-top_sources-1 option").all_inner_texts()
    assert offered == ["— choose —", "Search engines", "Colleagues and peers",
                       "Industry analysts", "Professional social networks",
                       "Conferences and trade events"]
    shoot(page, "short-ranking-390")
    page.select_option("#rank-top_sources-1", "events")
    next_page(page)
    fill_page(page, answers)
    next_page(page)
    assert page.locator("h1", has_text="Thank you").is_visible()
    context.close()
    [stored] = site["responses"]()
    assert stored["attributes"] == {"tenure": "new", "size": "small", "region": "americas"}
    assert stored["answers"]["first_contact_percent"] == "not_sure"
    assert stored["answers"]["top_sources"] == ["events"]
    assert not any(k.endswith("_value") for k in stored["answers"])
    assert max(s["height"] for s in seen) <= 3 * PHONE_SCREEN


def test_going_back_to_make_a_job_unimportant_drops_what_it_had_asked(browser, site):
    invitation = site["invite"](tenure="new", size="small", region="emea")
    context, page = _page(browser, 1280)
    page.goto(invitation["url"])
    fill_page(page)
    next_page(page)
    for _ in range(2):  # the early and the later jobs: only the first one important
        fill_page(page, _importance([5, 3, 3, 3, 3, 3]))
        next_page(page)
    assert page.locator("h1").inner_text() == "What you want from a supplier"
    fill_page(page, {"job_problem_value": ["visit"]})
    next_page(page)
    context.close()
    assert site["responses"]()[0]["answers"]["job_problem_value"] == ["visit"]
    # A new browser resumes with a welcome; back to the jobs, the problem job made unimportant.
    context, page = _page(browser, 1280)
    page.goto(invitation["url"])
    assert page.locator(".welcome-back h2").inner_text() == "Welcome back"
    shoot(page, "short-welcome-back-1280")
    assert page.locator("h1").inner_text() == "Information and timing"
    page.goto(invitation["url"] + "?page=2")
    page.locator("input[name=job_problem_importance][value='2']").check()
    next_page(page)
    assert page.locator(".welcome-back").count() == 0
    next_page(page)  # the later jobs, unchanged
    assert page.locator("h1").inner_text() == "Information and timing"  # no wanted page now
    context.close()
    assert "job_problem_value" not in site["responses"]()[0]["answers"]


def test_enter_means_next_and_the_keyboard_alone_finishes(browser, site):
    invitation = site["invite"](tenure="new", size="small", region="emea")
    context, page = _page(browser, 390)
    page.goto(invitation["url"])
    for _ in range(3):
        fill_page(page, _importance([3] * 6))
        next_page(page)
    assert page.locator("h1").inner_text() == "Information and timing"
    fill_page(page, {"info_sources": ["search"]})
    box = page.locator("input[name=first_contact_percent]")
    box.fill("30")
    with page.expect_navigation():
        box.press("Enter")  # Next, not Back
    assert page.locator("h1").inner_text() == "Your experience with Acme Analytics"
    # Back is still there and reachable with the keyboard: Tab from Next reaches it.
    page.locator("button.primary").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Back"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h1").inner_text() == "Information and timing"
    assert box.input_value() == "30"
    context.close()


def test_the_0_to_10_scale_fits_one_row_at_360_and_the_staff_grid_is_compact(browser, site):
    invitation = site["invite"](tenure="new", size="small", region="emea")
    context, page = _page(browser, 360)
    page.goto(invitation["url"])
    for _ in range(4):
        fill_page(page, _importance([3] * 6) | {"info_sources": ["search"]})
        next_page(page)
    assert page.locator("h1").inner_text() == "Your experience with Acme Analytics"
    tops = {round(box["y"]) for box in (t.bounding_box() for t in
                                        page.locator("#q-nps .tile").all())}
    assert len(tops) == 1 and page.locator("#q-nps .tile").count() == 11
    assert _measure(page)["width"] <= 360
    shoot(page, "short-experience-360")
    context.close()

    context, page = _page(browser, 1280)
    page.goto(site["links"]["staff"])
    header = page.locator("header").inner_text()
    assert "How Acme Analytics sells: a staff self-assessment" in header
    assert "can read each person's answers" in page.locator(".who-sees").inner_text()
    while page.locator("h1").inner_text() != "How ready we are":
        fill_page(page, {"role": "sales"})
        next_page(page)
    rows = page.locator(".rating-grid fieldset.grid-row")
    assert rows.count() == 16
    # Each statement and its tiles share one line; the scale's labels appear once.
    first = rows.first
    assert abs(first.locator("legend").bounding_box()["y"] -
               first.locator(".tile").first.bounding_box()["y"]) < 30
    assert page.locator(".grid-head").count() == 1 and page.locator(".scale-ends").count() == 0
    height = _measure(page)["height"]
    assert height < 1900, height
    shoot(page, "short-staff-grid-1280")
    page.set_viewport_size({"width": 390, "height": PHONE_SCREEN})
    shoot(page, "short-staff-grid-390")
    context.close()


def test_axe_finds_nothing_serious_on_the_short_survey_at_three_widths(browser, site):
    axe = Axe()
    problems = []
    invitation = site["invite"](tenure="new", size="small")  # region asked on page 1
    context, page = _page(browser, 390)
    page.goto(invitation["url"])
    answers = _importance([5, 4, 2, 2, 2, 2]) | {
        "info_sources": ["search", "peers", "events", "social"], "segment__region": "emea"}
    for step in range(10):
        for width in (360, 390, 1280):
            page.set_viewport_size({"width": width, "height": PHONE_SCREEN})
            result = axe.run(page)
            problems += [(step, width, v["id"], v["help"]) for v in result.response["violations"]
                         if v.get("impact") in ("serious", "critical")]
        if page.locator("h1", has_text="Thank you").count():
            break
        if step == 0:
            next_page(page)  # the error state, scanned on the next round
            assert page.locator(".error-summary").is_visible()
            page.set_viewport_size({"width": 390, "height": PHONE_SCREEN})
            shoot(page, "short-errors-390")
            continue
        fill_page(page, answers)
        next_page(page)
    context.close()
    assert problems == []


def test_keyboard_alone_finishes_the_short_survey(browser, site):
    from tests.system.test_browser import _keyboard_fill

    invitation = site["invite"](tenure="new", size="small")  # region asked on page 1
    context, page = _page(browser, 390)
    page.goto(invitation["url"])
    for _ in range(8):
        if page.locator("h1", has_text="Thank you").count():
            break
        _keyboard_fill(page)
    assert page.locator("h1", has_text="Thank you").is_visible()
    context.close()
    [stored] = site["responses"]()
    assert stored["complete"] and stored["attributes"]["region"] == "americas"
