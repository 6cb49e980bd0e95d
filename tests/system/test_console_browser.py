"""The marketing lead's walk through the console in Debian's Chromium, against the three real
services (started from the Procfile as `make run` does) and a real local SMTP server: sign in,
create a branded survey, upload 20 invitations (two bad rows named, then fixed), send them,
three customers answer through the links in their mails, a reminder goes to the other 17,
progress shows 3 of 20 by segment, and a brief is generated and downloaded (a valid PDF).
Every console page is scanned by axe and photographed at 1280 and 768 px."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from shared.storage import open_store
from survey_api.demo import seed_demo
from survey_api.console import users

from tests.support.browser import chromium, fill_page, next_page, shoot
from tests.support.helpers import wait_until
from tests.support.mailbox import running_inbox
from tests.support.pdfcheck import qpdf_check
from tests.support.services import running_services

PASSWORD = "a long console password"
REGIONS = ["emea", "americas"]
TENURES = ["new", "established", "long_standing"]


def crm_rows(bad: bool) -> str:
    """20 people as a CRM exports them; with bad=True, spreadsheet rows 5 and 12 are wrong."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Email", "Name", "Language", "Region", "Tenure", "Account owner"])
    for i in range(20):
        email = f"buyer{i:02d}@customer{i:02d}.example"
        region = REGIONS[i % 2]
        if bad and i == 3:
            email = "buyer03 at customer03"  # row 5
        if bad and i == 10:
            region = "antarctica"  # row 12
        writer.writerow([email, f"Buyer <{i}> & Co", "en", region, TENURES[i % 3], "Sam"])
    return buffer.getvalue()


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("console")
    db = tmp / "console.db"
    store = open_store(f"sqlite:///{db}")
    # The demo organization and its survey with 249 responses: the lead's own survey is new.
    demo = seed_demo(store, tmp / "demo-key")
    users.create_user(store, demo.org_id, "lead@acme.example", "Lea Lead", "admin", PASSWORD)
    store.close()
    with running_inbox() as inbox, running_services(f"sqlite:///{db}", {
            "SMTP_URL": inbox.url, "MAIL_FROM": "surveys@acme.example",
            "MAIL_POLL_SECONDS": "1"}) as running:
        yield {"url": running.urls["survey_api"], "inbox": inbox, "db": db}

# For the message when a page is wider than the phone: the elements reaching furthest right
# (an absolutely placed element escapes a box that scrolls sideways unless the box is placed).
STICKING_OUT = """() => [...document.querySelectorAll("body *")]
  .map(e => [Math.round(e.getBoundingClientRect().right), e.tagName.toLowerCase() + "." + e.className])
  .sort((a, b) => b[0] - a[0]).slice(0, 5)"""


def test_the_marketing_lead_runs_a_survey_from_sign_in_to_brief(services, tmp_path):
    url, inbox = services["url"], services["inbox"]
    axe = Axe()
    problems: list = []

    def look(page, name):
        """Screenshots at desktop, tablet and phone width, and an axe scan. On a phone the
        page must not be wider than the screen (wide tables scroll inside their own box)."""
        for width, label in ((1280, "desktop"), (768, "tablet"), (390, "phone")):
            page.set_viewport_size({"width": width, "height": 900})
            shoot(page, f"console-{name}-{label}")
            wider = page.evaluate("document.documentElement.scrollWidth") - width
            if wider > 0:
                problems.append((name, "wider than a phone", f"{wider} px at {width} px",
                                 page.evaluate(STICKING_OUT)))
        page.set_viewport_size({"width": 1280, "height": 900})
        result = axe.run(page)
        problems.extend((name, v["id"], v["help"]) for v in result.response["violations"]
                        if v.get("impact") in ("serious", "critical"))

    with chromium() as browser:
        lead = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page = lead.new_page()

        # Sign in: `/` leads there.
        page.goto(url + "/")
        expect(page.locator("h1")).to_have_text("Sign in")
        look(page, "sign-in")
        page.fill("#email", "lead@acme.example")
        page.fill("#password", "not the password")
        page.click("button.primary")
        expect(page.locator(".error")).to_contain_text("not right")
        page.fill("#password", PASSWORD)
        page.click("button.primary")
        expect(page.locator("h1")).to_have_text("Surveys")

        # A branded survey with a custom segment.
        page.click("text=New survey")
        look(page, "survey-new")
        page.fill("#name", "Q1 buyers <internal>")
        page.fill("#public_title", "How you buy analytics software")
        page.fill("#vendor_name", "Acme <Analytics>")
        page.fill("#accent_color", "#0b7285")
        page.fill("#logo_url", "https://acme.example/logo.png")
        page.fill("#contact_email", "research@acme.example")
        page.fill("#segments", "region: emea, americas")
        page.click("text=Create the survey")
        expect(page.locator("h1")).to_contain_text("Q1 buyers <internal>")  # escaped, shown
        page.click("text=Open the survey")
        expect(page.locator(".flash.ok")).to_contain_text("open")

        # Upload the CRM's list: two bad rows are named, nothing is stored; then the fixed file.
        page.click("nav.tabs >> text=Invitations")
        look(page, "invitations-empty")
        page.set_input_files("#file", files=[{"name": "crm.csv", "mimeType": "text/csv",
                                              "buffer": crm_rows(bad=True).encode()}])
        page.click("text=Check the file")
        errors = page.locator(".row-errors li")
        expect(errors).to_have_count(2)
        expect(errors.nth(0)).to_contain_text("Row 5")
        expect(errors.nth(0)).to_contain_text("not an e-mail address")
        expect(errors.nth(1)).to_contain_text("Row 12")
        expect(errors.nth(1)).to_contain_text("antarctica")
        assert page.locator("text=Create 20 invitations").count() == 0
        look(page, "preview-errors")
        page.click("text=Upload another file")
        page.set_input_files("#file", files=[{"name": "crm.csv", "mimeType": "text/csv",
                                              "buffer": crm_rows(bad=False).encode()}])
        page.click("text=Check the file")
        expect(page.locator(".flash.ok")).to_contain_text("All 20 rows are fine")
        look(page, "preview-ok")
        page.click("text=Create 20 invitations")
        expect(page.locator(".flash.ok")).to_contain_text("20 invitations are ready")

        # Send: the local SMTP server receives 20 mails.
        page.click("text=Send 20 invitations")
        expect(page.locator(".flash.ok")).to_contain_text("20 invitation mails queued")
        wait_until(lambda: len(inbox.messages) >= 20, "20 invitation mails")
        assert len(inbox.messages) == 20
        recipients = sorted(r[0] for r, _ in inbox.messages)
        assert recipients == sorted(f"buyer{i:02d}@customer{i:02d}.example" for i in range(20))
        first = inbox.to("buyer00@customer00.example")[0]
        assert first["From"] == '"Acme <Analytics>" <surveys@acme.example>'
        assert "Buyer <0> & Co" in first.get_content()

        # The links file can be downloaded (again and again).
        page.click("nav.tabs >> text=Invitations")
        with page.expect_download() as download:
            page.click("text=Download the links (CSV)")
        links = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
        assert len(links) == 20 and all("/s/" in row["link"] for row in links)
        look(page, "invitations")

        # Three customers answer through the links in their mails.
        answering = ["buyer01@customer01.example", "buyer02@customer02.example",
                     "buyer04@customer04.example"]  # americas, emea, emea
        for address in answering:
            link = re.search(r"(http://\S+/s/[A-Za-z0-9_\-]+)\s",
                             inbox.to(address)[0].get_content()).group(1)
            customer = browser.new_context(viewport={"width": 1280, "height": 900})
            form = customer.new_page()
            form.goto(link)
            while form.locator("button.primary").count():
                fill_page(form)
                next_page(form)
            expect(form.locator("h1")).to_have_text("Thank you")
            customer.close()

        # A reminder goes to the 17 others, not to the three.
        page.click("nav.tabs >> text=Progress and mail")
        page.fill("#min_days_apart", "0")
        page.click("text=Save the rules")
        expect(page.locator(".flash.ok")).to_contain_text("Reminder rules saved")
        page.click("text=Remind 17 who have not finished")
        wait_until(lambda: len(inbox.messages) >= 37, "17 reminders")
        reminded = {r[0] for r, m in inbox.messages if m["Subject"].startswith("Reminder")}
        assert len(inbox.messages) == 37
        assert reminded == set(recipients) - set(answering)

        # Progress: 3 of 20, and per segment (region: americas 1 of 10, emea 2 of 10).
        page.reload()
        expect(page.locator("p.big")).to_contain_text("3 of 20 invited have answered")
        expect(page.locator("p.big")).to_contain_text("15 %")
        expect(page.locator(".funnel div", has_text="Completed")).to_contain_text("3")
        expect(page.locator(".funnel div", has_text="Invited")).to_contain_text("20")
        region = page.locator("table", has=page.locator("caption", has_text="region"))
        expect(region.locator("tr", has_text="americas")).to_contain_text("10 %")
        expect(region.locator("tr", has_text="emea")).to_contain_text("20 %")
        look(page, "survey-progress")

        # Results in the browser, then a brief generated and downloaded.
        page.click("nav.tabs >> text=Results and briefs")
        expect(page.locator("#head-h")).to_have_text("Headline")
        expect(page.locator("text=3 customer and 0 staff responses")).to_be_visible()
        look(page, "results")
        page.click("text=Generate a brief")
        expect(page.locator(".flash.ok")).to_contain_text("The brief is ready")
        with page.expect_download() as download:
            page.click("text=Download PDF")
        pdf = Path(download.value.path()).read_bytes()
        assert pdf.startswith(b"%PDF")
        qpdf_check(pdf)
        page.click("text=Share a link")
        shared = page.locator("#share-link").input_value()
        assert requests.get(shared, timeout=30).content == pdf  # no sign-in needed
        page.fill("input[name=to]", "ceo@acme.example")
        page.click("button:text-is('E-mail')")
        expect(page.locator(".flash.ok")).to_contain_text("on its way to ceo@acme.example")
        wait_until(lambda: inbox.to("ceo@acme.example"), "the brief by mail")
        attachment = next(inbox.to("ceo@acme.example")[0].iter_attachments())
        assert attachment.get_content() == pdf
        look(page, "results-brief")

        # A survey with enough answers for scores: the demo's, crossed by size and tenure.
        page.click("nav >> text=Surveys")
        look(page, "surveys")
        page.click("text=How our customers buy (demo)")
        page.click("nav.tabs >> text=Results and briefs")
        expect(page.locator(".tile-value strong").first).to_be_visible()
        page.check("input[name=by][value=size]")
        page.check("input[name=by][value=tenure]")
        page.click("text=Show")
        page.click("a:text-is('Size: large · Tenure: long standing')")
        expect(page.locator("#detail-h")).to_contain_text("Size: large · Tenure: long standing")
        expect(page.locator("#detail table").first).to_contain_text("Timing of first contact")
        look(page, "results-demo")

        # The organization: keys shown once and revoked, people, the audit log.
        page.click("text=API keys")
        page.fill("#name", "Salesforce sync")
        page.click("text=Issue the key")
        key = page.locator("#new-key").input_value()
        assert key.startswith("bk_")
        look(page, "keys")
        page.reload()
        assert key not in page.content()  # shown once
        page.click("button[aria-label='Revoke Salesforce sync']")
        expect(page.locator(".flash.ok")).to_contain_text("revoked")
        page.click("text=People")
        look(page, "people")
        page.click("text=Audit log")
        for action in ("survey.created", "survey.opened", "invitations.imported",
                       "invitations.mailed", "invitations.reminded", "brief.created",
                       "key.created", "key.revoked"):
            expect(page.locator("td", has_text=action).first).to_be_visible()
        look(page, "audit")
        page.click("text=Sign out")
        expect(page.locator("h1")).to_have_text("Sign in")
    assert problems == []


def signed_in_lead(browser, url: str):
    """A desktop page of the console, signed in as the marketing lead."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(url + "/console/sign-in")
    page.fill("#email", "lead@acme.example")
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    return page


def test_the_lead_gives_the_title_in_each_further_language_and_sees_a_problem_beside_it(
        services):
    url = services["url"]
    axe = Axe()
    with chromium() as browser:
        page = signed_in_lead(browser, url)
        page.goto(url + "/console/surveys/new")
        expect(page.get_by_label("Title respondents see in German (de)")).to_be_visible()
        page.fill("#name", "Titles in three languages")
        page.fill("#public_title", "How you buy analytics software")
        page.fill("#vendor_name", "Acme Analytics")
        page.fill("#public_title_de", "Wie Sie Analyse-Software kaufen")
        page.fill("#public_title_fr", "Comment vous achetez " * 6)  # 126 characters
        page.click("text=Create the survey")
        french = page.locator(".field", has=page.locator("#public_title_fr"))
        expect(french.locator(".error")).to_contain_text("120")
        expect(page.locator("#public_title_fr")).to_have_attribute("aria-invalid", "true")
        assert page.locator("#public_title_de").input_value() == \
            "Wie Sie Analyse-Software kaufen"
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            shoot(page, f"console-survey-new-titles-error-{width}")
        violations = [(v["id"], v["help"]) for v in axe.run(page).response["violations"]
                      if v.get("impact") in ("serious", "critical")]
        assert violations == []

        page.fill("#public_title_fr", "Comment vous achetez vos logiciels d'analyse")
        page.click("text=Create the survey")
        expect(page.locator("h1")).to_contain_text("Titles in three languages")
    store = open_store(f"sqlite:///{services['db']}")
    try:
        org_id = store.console_users.find_by_email("lead@acme.example").org_id
        [survey] = [s for s in store.surveys.list(org_id, limit=100).items
                    if s.name == "Titles in three languages"]
    finally:
        store.close()
    assert survey.branding["public_title_translations"] == {
        "de": "Wie Sie Analyse-Software kaufen",
        "fr": "Comment vous achetez vos logiciels d'analyse"}


def test_the_lead_corrects_the_public_title_of_an_open_survey_and_respondents_see_it(services):
    url = services["url"]
    typo, fixed = "How you by analytics software", "How you buy analytics software"
    axe = Axe()
    with chromium() as browser:
        page = signed_in_lead(browser, url)
        page.goto(url + "/console/surveys/new")
        page.fill("#name", "A title with a typo")
        page.fill("#public_title", typo)
        page.fill("#vendor_name", "Acme Analytics")
        page.check("#anonymous_link")
        page.click("text=Create the survey")
        page.click("text=Open the survey")
        expect(page.locator(".flash.ok")).to_contain_text("open")

        page.click("text=Edit details")
        expect(page.locator("h1")).to_have_text("Edit details")
        expect(page.locator("#public_title")).to_have_value(typo)
        expect(page.locator("#vendor_name")).to_have_value("Acme Analytics")
        page.fill("#public_title", fixed)
        page.fill("#public_title_de", "Wie Sie Analyse-Software kaufen")
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            shoot(page, f"console-survey-edit-{width}")
        violations = [(v["id"], v["help"]) for v in axe.run(page).response["violations"]
                      if v.get("impact") in ("serious", "critical")]
        assert violations == []
        page.click("text=Save the changes")
        expect(page.locator(".flash.ok")).to_contain_text("The changes are saved")
        expect(page.locator(".facts").first).to_contain_text(fixed)
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            shoot(page, f"console-survey-edited-{width}")
        anonymous = page.get_attribute("input[aria-label='Anonymous link']", "value")

        respondent = browser.new_context(viewport={"width": 390, "height": 800},
                                         locale="en-GB").new_page()
        respondent.goto(anonymous)
        expect(respondent.locator(".survey-title")).to_have_text(fixed)
