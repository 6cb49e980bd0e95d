"""Driving Debian's Chromium with Playwright (no browser download: executable_path)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import sync_playwright

import survey_api

from tests.support.helpers import LiveServer

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENS = Path(__file__).resolve().parents[1] / "output" / "screens"


@contextmanager
def chromium():
    """Debian's Chromium, headless, for the length of a with-block."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def served_survey_api(settings):
    """survey_api on a real local port, the links it makes (invitations, anonymous, staff)
    pointing at that port: yields (app, server)."""
    app = survey_api.create_app(settings.with_overrides(survey_api_url="http://placeholder"))
    server = LiveServer(app)
    app.config["SETTINGS"] = app.config["SETTINGS"].with_overrides(survey_api_url=server.url)
    try:
        yield app, server
    finally:
        server.close()


def open_survey_site(app, server, headers: dict, survey: dict,
                     invitation_attributes: dict | None = None) -> dict:
    """Create and open `survey` through the API of a served survey_api: its url, client,
    headers, survey, links, invite(**attributes) (invitation_attributes when none given) and
    responses() (those stored so far)."""
    client = app.test_client()
    created = client.post("/v1/surveys", json=survey, headers=headers).get_json()
    client.post(f"/v1/surveys/{created['id']}/open", headers=headers)

    def invite(**attributes):
        return client.post(f"/v1/surveys/{created['id']}/invitations", json={
            "invitations": [{"attributes": attributes or invitation_attributes or {}}]},
            headers=headers).get_json()["invitations"][0]

    def responses():
        return client.get(f"/v1/surveys/{created['id']}/responses",
                          headers=headers).get_json()["items"]

    return {"url": server.url, "client": client, "headers": headers, "survey": created,
            "invite": invite, "responses": responses,
            "links": client.get(f"/v1/surveys/{created['id']}/links", headers=headers).get_json()}


def fill_page(page, answers: dict | None = None) -> None:
    """Answer every question on the current page: the given answers where there are some,
    else the first option / a middle value."""
    answers = answers or {}
    for fieldset in page.locator("fieldset.question").all():
        radios = fieldset.locator("input[type=radio]")
        boxes = fieldset.locator("input[type=checkbox]")
        selects = fieldset.locator("select")
        name = (radios.first.get_attribute("name") if radios.count() else
                boxes.first.get_attribute("name") if boxes.count() else None)
        if radios.count():
            value = answers.get(name)
            target = fieldset.locator(f"input[type=radio][value='{value}']") if value is not None \
                else radios.nth(min(3, radios.count() - 1))
            target.check()
        elif boxes.count():
            for value in answers.get(name, [boxes.first.get_attribute("value")]):
                fieldset.locator(f"input[type=checkbox][value='{value}']").check()
        elif selects.count():  # rankings: distinct options, of those offered (enabled)
            for i in range(selects.count()):
                offered = selects.nth(i).evaluate(
                    "s => [...s.options].filter(o => o.value && !o.disabled).map(o => o.value)")
                if i < len(offered):
                    selects.nth(i).select_option(offered[i])
    for number in page.locator("input[type=number]").all():
        number.fill(str(answers.get(number.get_attribute("name"), 40)))
    for box in page.locator("textarea").all():
        box.fill(answers.get(box.get_attribute("name"), "Publish prices, please."))


def next_page(page) -> None:
    with page.expect_navigation():
        page.locator("button.primary").click()


def shoot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
