"""Driving Debian's Chromium with Playwright (no browser download: executable_path)."""

from __future__ import annotations

from pathlib import Path

from .helpers import LiveServer  # noqa: F401  (the browser tests' server)

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENS = Path(__file__).resolve().parent / "output" / "screens"


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
