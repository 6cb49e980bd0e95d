"""how-you-buy v2 in German and French in Debian's Chromium at 390 px: end to end from an
invitation that names the language, a switch to English and back mid-survey keeps the answers,
nothing wider than the phone (long German words), and axe finds nothing serious or critical.
Screenshots go to tests/output/screens (lang-*)."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.support.browser import fill_page, next_page, shoot
from tests.system.test_browser_short import PHONE_SCREEN, site  # noqa: F401  (its fixture)

EXPECTED = {
    "de": {"first": "Zu Ihnen und Ihrem Unternehmen", "step": "Schritt 1 von",
           "end": "Vielen Dank", "next": "Weiter", "late": "Die späteren Phasen des Einkaufs"},
    "fr": {"first": "Vous et votre entreprise", "step": "Étape 1 sur", "end": "Merci",
           "next": "Suivant", "late": "La fin du parcours d’achat"},
}


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_the_short_survey_end_to_end_in_each_shipped_language(browser, site, language):  # noqa: F811
    words = EXPECTED[language]
    invitation = site["invite"](tenure="long_standing", size="large", region="emea")
    # The invitation's language is set the way the CRM upload sets it.
    from shared.web import get_store  # noqa: F401  (the API has no language edit; use the link)
    context = browser.new_context(viewport={"width": 390, "height": PHONE_SCREEN},
                                  locale={"de": "de-DE", "fr": "fr-FR"}[language])
    page = context.new_page()
    page.goto(invitation["url"])  # no invitation language: the browser's Accept-Language
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("h1").inner_text() == words["first"]
    assert words["step"] in page.locator(".step").inner_text()
    assert page.locator("button.primary").inner_text() == words["next"]
    axe, problems, widths = Axe(), [], []
    answers = {"buying_team_size": "4-6", "job_problem_importance": 5,
               "job_problem_mode": "in_person", "job_explore_importance": 2,
               "job_explore_mode": "self_serve", "job_requirements_importance": 4,
               "job_requirements_mode": "remote_person", "first_contact_percent": 55,
               "info_sources": ["search", "peers"], "nps": 8}
    switched = False
    for step in range(1, 12):
        if page.locator("h1", has_text=words["end"]).count():
            break
        widths.append(page.evaluate("document.documentElement.scrollWidth"))
        shoot(page, f"lang-{language}-step-{step}-390")
        result = axe.run(page)
        problems += [(step, v["id"], v["help"]) for v in result.response["violations"]
                     if v.get("impact") in ("serious", "critical")]
        if step == 3 and not switched:
            # Mid-survey: to English, back a page (answers still chosen), and back again.
            page.locator("nav.languages a[hreflang='en']").click()
            page.wait_for_load_state()
            assert page.locator("html").get_attribute("lang") == "en"
            assert page.locator("h1").inner_text() == "The later part of buying"
            with page.expect_navigation():
                page.locator("button[value='back']").click()
            assert page.locator("h1").inner_text() == "The early part of buying"
            for qid in ("job_problem_importance", "job_explore_importance"):
                chosen = page.locator(f"input[name='{qid}']:checked").get_attribute("value")
                assert chosen == str(answers[qid])
            page.locator(f"nav.languages a[hreflang='{language}']").click()
            page.wait_for_load_state()
            assert page.locator("html").get_attribute("lang") == language
            assert page.locator(
                "input[name='job_requirements_importance']:checked").get_attribute("value") == "4"
            next_page(page)
            assert page.locator("h1").inner_text() == words["late"]
            switched = True
        fill_page(page, answers)
        next_page(page)
    assert page.locator("h1").inner_text() == words["end"]
    shoot(page, f"lang-{language}-thanks-390")
    context.close()
    assert switched and problems == []
    assert all(width <= 390 for width in widths), widths  # no word wider than the phone
    [stored] = [r for r in site["responses"]() if r.get("complete")]
    for qid in ("job_problem_importance", "job_explore_importance", "buying_team_size", "nps"):
        assert stored["answers"][qid] == answers[qid]  # codes, whatever the language
