"""The web forms in a real browser: Debian's Chromium driven by Playwright, against
survey_api served over HTTP. Screenshots of every page type go to tests/output/screens."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.support.browser import fill_page, next_page, open_survey_site, served_survey_api, shoot
from tests.support.factories import builtin

CUSTOMER, VENDOR = builtin("how-you-buy"), builtin("how-we-sell")


@pytest.fixture
def site(settings, tenant):
    """survey_api on a real port, with an open survey (anonymous link on)."""
    with served_survey_api(settings) as (app, server):
        yield open_survey_site(app, server, tenant.headers(), {
            "name": "How Acme's customers buy", "segments": {"region": ["emea", "americas"]},
            "customer_instrument": {"id": "how-you-buy", "version": 1},  # v1: the long original
            "branding": {"vendor_name": "Acme Analytics", "accent_color": "#0b7285"},
            "settings": {"anonymous_link": True}},
            {"tenure": "long_standing", "size": "large", "region": "emea"})


def _page(browser, width=1280):
    context = browser.new_context(viewport={"width": width, "height": 900})
    return context, context.new_page()


def test_a_customer_completes_the_survey_and_the_api_has_it(browser, site):
    invitation = site["invite"]()
    context, page = _page(browser)
    page.goto(invitation["url"])
    assert page.locator("text=Step 1 of 7").is_visible()
    # The invitation knows tenure and size: those questions are not asked.
    assert page.locator("input[name=tenure]").count() == 0
    assert page.locator("input[name=company_size]").count() == 0
    chosen = {"role": "manager", "buying_team_size": "7-10", "first_contact_percent": 65,
              "nps": 9, "gate_tolerance": "never", "suggestion": "Less <b>gating</b> & more "
                                                                 "pricing, please"}
    for number in range(1, 8):
        assert page.locator(f"text=Step {number} of 7").is_visible()
        fill_page(page, chosen)
        next_page(page)
    assert page.locator("h1", has_text="Thank you").is_visible()
    context.close()
    [stored] = site["responses"]()
    assert stored["complete"] and stored["source"] == "web"
    assert stored["attributes"] == {"tenure": "long_standing", "size": "large", "region": "emea"}
    assert stored["invitation_id"] == invitation["id"]
    for key in ("role", "buying_team_size", "first_contact_percent", "nps", "gate_tolerance",
                "suggestion"):
        assert stored["answers"][key] == chosen[key], key
    assert "tenure" not in stored["answers"]
    # The link is single-use.
    context, page = _page(browser)
    page.goto(invitation["url"])
    assert page.locator("h1", has_text="already answered").is_visible()
    context.close()


def test_leaving_after_page_two_and_reopening_resumes_with_answers_kept(browser, site):
    invitation = site["invite"]()
    context, page = _page(browser)
    page.goto(invitation["url"])
    fill_page(page, {"role": "technical", "buying_team_size": "2-3"})
    next_page(page)
    fill_page(page, {"job_problem_importance": 5, "job_problem_mode": "in_person"})
    next_page(page)
    context.close()  # gone: a new browser, no cookies
    assert not site["responses"]()[0]["complete"]

    context, page = _page(browser)
    page.goto(invitation["url"])
    assert page.locator("text=Step 3 of 7").is_visible()  # resumed where they left off
    with page.expect_navigation():
        page.locator("button.secondary").click()
    assert page.locator("text=Step 2 of 7").is_visible()
    assert page.locator("input[name=job_problem_importance][value='5']").is_checked()
    assert page.locator("input[name=job_problem_mode][value='in_person']").is_checked()
    with page.expect_navigation():
        page.locator("button.secondary").click()
    assert page.locator("input[name=role][value=technical]").is_checked()
    context.close()


def test_invalid_pages_show_messages_and_keyboard_alone_finishes(browser, site):
    invitation = site["invite"]()
    context, page = _page(browser)
    page.goto(invitation["url"])
    next_page(page)  # nothing answered
    summary = page.locator(".error-summary")
    assert summary.is_visible() and "Please check these 2 answers" in summary.inner_text()
    assert page.locator("#error-role").inner_text().endswith("Please choose an answer.")
    assert page.locator("fieldset#q-role").get_attribute("aria-invalid") == "true"
    shoot(page, "customer-errors-desktop")
    # A percent out of range, typed by hand, is refused with a reason.
    fill_page(page)
    next_page(page)
    fill_page(page)
    next_page(page)
    fill_page(page)
    next_page(page)
    page.locator("input[name=first_contact_percent]").fill("250")
    next_page(page)
    assert "from 0 to 100" in page.locator("#error-first_contact_percent").inner_text()
    context.close()

    # Keyboard only, from a fresh invitation: Tab to move, Space/arrows to choose, Enter to go.
    invitation = site["invite"]()
    context, page = _page(browser)
    page.goto(invitation["url"])
    for _ in range(7):
        _keyboard_fill(page)
    assert page.locator("h1", has_text="Thank you").is_visible()
    context.close()
    assert sum(r["complete"] for r in site["responses"]()) == 1


def _keyboard_fill(page) -> None:
    """Answer the current page using only the keyboard, then press Enter on the button."""
    step = page.locator(".step").inner_text()
    seen_groups: set[str] = set()
    ticked: dict[str, int] = {}
    rank = 0
    for _ in range(400):
        page.keyboard.press("Tab")
        info = page.evaluate("""() => { const e = document.activeElement;
            return {tag: e.tagName, type: e.type || '', name: e.name || '',
                    cls: e.className || '', value: e.value || ''}; }""")
        if info["tag"] == "INPUT" and info["type"] == "radio":
            if info["name"] not in seen_groups:
                seen_groups.add(info["name"])
                page.keyboard.press("ArrowRight")  # moves to and selects the second option
        elif info["tag"] == "INPUT" and info["type"] == "checkbox":
            # Three of each list at most (a ranking after it offers only what is ticked).
            ticked[info["name"]] = ticked.get(info["name"], 0) + 1
            if ticked[info["name"]] <= 3 and not info["name"].endswith("__not_sure"):
                page.keyboard.press("Space")
        elif info["tag"] == "INPUT" and info["type"] == "number":
            page.keyboard.type("35")
        elif info["tag"] == "SELECT":
            rank += 1
            for _ in range(rank):
                page.keyboard.press("ArrowDown")
        elif info["tag"] == "TEXTAREA":
            page.keyboard.type("Typed with the keyboard.")
        elif info["tag"] == "BUTTON" and "primary" in info["cls"]:
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert page.locator(".step").count() == 0 or page.locator(".step").inner_text() != step, \
                page.locator(".error-summary").inner_text() if page.locator(
                    ".error-summary").count() else "page did not change"
            return
    raise AssertionError("never reached the Next button")


def test_vendor_staff_complete_the_self_assessment(browser, site):
    context, page = _page(browser)
    page.goto(site["links"]["staff"])
    assert page.locator("input[name=role]").count() == 4
    fill_page(page, {"role": "marketing"})
    next_page(page)
    total = int(page.locator(".step").inner_text().split()[-1])
    for _ in range(2, total + 1):
        fill_page(page, {"r4_stage_conversion": 2})
        next_page(page)
    assert page.locator("h1", has_text="Thank you").is_visible()
    context.close()
    staff = [r for r in site["responses"]() if r["instrument"] == "vendor"]
    assert len(staff) == 1 and staff[0]["complete"]
    assert staff[0]["attributes"] == {"role": "marketing"}
    assert staff[0]["answers"]["r4_stage_conversion"] == 2


def test_every_page_type_passes_an_accessibility_scan_and_is_photographed(browser, site):
    axe = Axe()
    problems = []

    def scan(page, name):
        for width, label in ((1280, "desktop"), (360, "phone")):
            page.set_viewport_size({"width": width, "height": 900})
            shoot(page, f"{name}-{label}")
        result = axe.run(page)
        serious = [v for v in result.response["violations"]
                   if v.get("impact") in ("serious", "critical")]
        problems.extend((name, v["id"], v["help"]) for v in serious)

    invitation = site["invite"]()
    context, page = _page(browser)
    page.goto(invitation["url"])
    for number in range(1, 8):
        scan(page, f"customer-step-{number}")
        if number == 1:
            next_page(page)  # an error state too
            scan(page, "customer-step-1-errors")
        fill_page(page)
        next_page(page)
    scan(page, "thank-you")
    page.goto(invitation["url"])
    scan(page, "already-answered")
    page.goto(site["url"] + "/s/not-a-real-token")
    scan(page, "invalid-link")
    context.close()

    context, page = _page(browser)
    page.goto(site["links"]["staff"])
    scan(page, "staff-step-1")
    fill_page(page)
    next_page(page)
    scan(page, "staff-step-2")
    page.goto(site["links"]["anonymous"])
    scan(page, "anonymous-step-1")
    context.close()

    h, survey = site["headers"], site["survey"]
    revoked = site["invite"]()
    site["client"].post(f"/v1/surveys/{survey['id']}/invitations/{revoked['id']}/revoke",
                        headers=h)
    soon = (datetime.now(timezone.utc) + timedelta(seconds=1)).isoformat()
    expiring = site["client"].post(f"/v1/surveys/{survey['id']}/invitations", json={
        "invitations": [{"expires_at": soon}]}, headers=h).get_json()["invitations"][0]
    import time
    time.sleep(1.2)
    context, page = _page(browser)
    page.goto(revoked["url"])
    scan(page, "revoked-link")
    page.goto(expiring["url"])
    scan(page, "expired-link")
    site["client"].post(f"/v1/surveys/{survey['id']}/close", headers=h)
    page.goto(site["links"]["anonymous"])
    scan(page, "closed-survey")
    context.close()
    assert problems == []


def test_the_ranking_offers_only_the_sources_ticked_above(browser, site):
    invitation = site["invite"]()
    context, page = _page(browser, 390)
    page.goto(invitation["url"] + "?page=6")
    enabled = "s => [...s.options].filter(o => o.value && !o.disabled).map(o => o.value)"
    assert page.locator("#rank-top_sources-1").evaluate(enabled) == []
    page.locator("input[name=info_sources][value=peers]").check()
    page.locator("input[name=info_sources][value=events]").check()
    assert page.locator("#rank-top_sources-1").evaluate(enabled) == ["peers", "events"]
    page.select_option("#rank-top_sources-1", "events")
    page.locator("input[name=info_sources][value=events]").uncheck()
    assert page.locator("#rank-top_sources-1").input_value() == ""  # no longer offered
    context.close()
