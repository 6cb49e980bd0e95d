"""The words of the e-mails survey_api sends, in the recipient's language.

They come from the same gettext catalogues as the respondents' pages (translations/), read
with babel directly rather than Flask-Babel: the automatic reminder job queues mails from a
background thread, outside any request. A mail is worded when it is queued; the outbox keeps
the finished subject and body.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

from shared.instrument_languages import choose_language

TRANSLATIONS = Path(__file__).parent.parent / "translations"
SOURCE_LANGUAGE = "en"  # the language of the msgids


@lru_cache(maxsize=1)
def mail_languages() -> tuple[str, ...]:
    """English and every language with a catalogue."""
    shipped = sorted(p.name for p in TRANSLATIONS.iterdir()
                     if (p / "LC_MESSAGES" / "messages.mo").is_file())
    return (SOURCE_LANGUAGE, *shipped)


def mail_language(wanted: str | None, fallback: str | None = None,
                  accept_language: str | None = None) -> str:
    """The language to write in: the one wanted (an invitation's) when a catalogue has it,
    else the fallback's (the survey's default), else the best of Accept-Language, else
    English."""
    shipped = list(mail_languages())
    for candidate in (wanted, fallback):
        if candidate:
            chosen = choose_language(shipped, candidate, None)
            if chosen.split("-")[0] == candidate.split("-")[0].lower():
                return chosen
    return choose_language(shipped, None, accept_language)


@lru_cache(maxsize=16)
def _translations(language: str) -> NullTranslations:
    if language == SOURCE_LANGUAGE:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [language])


def _translator(language: str):
    """A `_` with Flask-Babel's signature: _(message, **values)."""
    translations = _translations(language)

    def _(message: str, **values) -> str:
        text = translations.gettext(message)
        return text % values if values else text
    return _


def survey_mail(kind: str, language: str, *, title: str, vendor: str | None,
                name: str | None, link: str, contact_email: str | None = None,
                privacy_url: str | None = None) -> tuple[str, str]:
    """(subject, body) of an invitation (kind "invitation") or a reminder ("reminder")."""
    _ = _translator(language)
    if kind == "reminder":
        subject = _("Reminder: %(title)s", title=title)
        opening = (_("A few days ago %(vendor)s asked for your view on how you prefer to buy. "
                     "If you have a few minutes, your answers would still help.", vendor=vendor)
                   if vendor else
                   _("A few days ago we asked for your view on how you prefer to buy. If you "
                     "have a few minutes, your answers would still help."))
    else:
        subject = (_("%(title)s: %(vendor)s would like your view", title=title, vendor=vendor)
                   if vendor else _("%(title)s: we would like your view", title=title))
        opening = (_("%(vendor)s is asking its customers how they prefer to find, compare and "
                     "buy products like ours, so that we can make buying from us easier. It "
                     "takes about ten minutes.", vendor=vendor)
                   if vendor else
                   _("We are asking our customers how they prefer to find, compare and buy "
                     "products like ours, so that we can make buying from us easier. It takes "
                     "about ten minutes."))
    greeting = _("Hello %(name)s,", name=name) if name else _("Hello,")
    lines = [greeting, "", opening, "",
             _("Your personal link (it works once, and saves your answers as you go):"), link]
    if contact_email or privacy_url:
        lines.append("")
    if contact_email:
        lines.append(_("Questions? Write to %(address)s.", address=contact_email))
    if privacy_url:
        lines.append(_("How we handle your answers: %(url)s", url=privacy_url))
    lines += ["", _("No more e-mails about this survey: %(url)s", url=f"{link}/opt-out")]
    return subject, "\n".join(lines) + "\n"


def password_reset_mail(language: str, *, name: str, link: str, hours: int) -> tuple[str, str]:
    """(subject, body) of the console's password-reset mail."""
    _ = _translator(language)
    body = "\n".join([
        _("Hello %(name)s,", name=name), "",
        _("Someone (we hope you) asked to reset the password of your console account. Choose "
          "a new one here within %(hours)s hours:", hours=hours), link, "",
        _("The link works once. If you did not ask, ignore this mail: your password stays as "
          "it is.")])
    return _("Reset your console password"), body + "\n"
