"""Survey rules: pinned instrument versions, segment definitions, and the draft/open/closed cycle."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from shared import ids
from shared.bounded_cache import BoundedCache
from shared.storage import Instrument, Store, Survey, to_timestamp, utc_now

from ..audit import record
from shared.errors import Conflict, Invalid, NotFound
from shared.instrument_languages import offered_languages
from shared.instruments import segment_options, segment_questions

DEFAULT_CUSTOMER = "how-you-buy"
DEFAULT_VENDOR = "how-we-sell"
TRANSITIONS = {"open": ("draft",), "closed": ("open",)}
STAFF_LINK_DAYS = 30  # the default lifetime of a staff link (settings.staff_link_days)
# What may change when. What people read (the names, the public title and its translations,
# the rest of the branding) may change at any time: a typo in the public title must not go out
# in every invitation. What scoring depends on (the pinned instruments, the segments answers are
# counted in) changes only while the survey is a draft, so that every counted answer means the
# same. Settings (links, reminders, the population to weight to) change at any time, as before.
PRESENTATION = ("name", "branding")
SCORING = ("customer_instrument", "vendor_instrument", "segments")
EDITABLE = PRESENTATION + SCORING + ("settings",)


def get_survey(store: Store, org_id: str, survey_id: str) -> Survey:
    survey = store.surveys.get(org_id, survey_id)
    if survey is None:
        raise NotFound(f"No survey {survey_id}.")
    return survey


def _resolve(store: Store, org_id: str, ref: dict | None, default: str, kind: str,
             field: str) -> Instrument:
    ref = ref or {"id": default}
    instrument = store.instruments.get(org_id, ref["id"], ref.get("version"))
    if instrument is None:
        raise Invalid("The survey names an instrument that does not exist.",
                      [{"field": f"{field}.id", "reason": f"No instrument '{ref['id']}'"
                        + (f" version {ref['version']}" if ref.get("version") else "") + "."}])
    if instrument.kind != kind:
        raise Invalid("The survey's instruments are of the wrong kind.",
                      [{"field": f"{field}.id",
                        "reason": f"'{instrument.id}' is a {instrument.kind} instrument; "
                                  f"a {kind} one is needed here."}])
    return instrument


def _segments(customer: Instrument, vendor: Instrument, given: dict | None) -> dict:
    """Every segment attribute with its allowed values. Attributes asked by a profile question
    take that question's options; custom ones are whatever the survey defines."""
    asked = {**segment_questions(vendor.definition), **segment_questions(customer.definition)}
    segments = segment_options(customer.definition, vendor.definition)
    errors = []
    for name, values in (given or {}).items():
        if name in segments and sorted(values) != sorted(segments[name]):
            errors.append({"field": f"segments.{name}",
                           "reason": f"'{name}' is asked by question '{asked[name]['id']}', so "
                                     f"its values are its options: {', '.join(segments[name])}."})
        segments[name] = list(values)
    if errors:
        raise Invalid("Segment definitions disagree with the instruments.", errors)
    return segments


def _check_repeats(store: Store, org_id: str, survey_id: str | None, settings: dict,
                   customer: Instrument, vendor: Instrument) -> None:
    """settings.repeats names an earlier wave: a survey of the same organization (another
    organization's survey is as unknown as a missing one) asking the same instruments."""
    previous_id = settings.get("repeats")
    if previous_id is None:
        return
    field = "settings.repeats"
    if previous_id == survey_id:
        raise Invalid("A survey cannot repeat itself.",
                      [{"field": field, "reason": "Name the earlier survey this one repeats."}])
    previous = store.surveys.get(org_id, previous_id)
    if previous is None:
        raise Invalid("The survey repeats a survey that does not exist.",
                      [{"field": field, "reason": f"No survey {previous_id}."}])
    if (previous.customer_instrument["id"], previous.vendor_instrument["id"]) != (
            customer.id, vendor.id):
        raise Invalid("A repeated survey must ask the same instruments.", [{
            "field": field,
            "reason": f"Survey {previous_id} asks {previous.customer_instrument['id']} and "
                      f"{previous.vendor_instrument['id']}; this one asks {customer.id} and "
                      f"{vendor.id}."}])


def _check_population(settings: dict, segments: dict) -> None:
    errors = []
    for name, counts in (settings.get("population") or {}).items():
        if name not in segments:
            errors.append({"field": f"settings.population.{name}",
                           "reason": f"Not a segment of this survey (segments: "
                                     f"{', '.join(sorted(segments))})."})
            continue
        for value in counts:
            if value not in segments[name]:
                errors.append({"field": f"settings.population.{name}.{value}",
                               "reason": f"Must be one of: {', '.join(segments[name])}."})
        if not errors and not sum(counts.values()):
            errors.append({"field": f"settings.population.{name}",
                           "reason": "At least one count must be positive."})
    if errors:
        raise Invalid("The population does not match the survey's segments.", errors)


def title_languages(store: Store, org_id: str, customer_ref: dict | None = None) -> list[str]:
    """The languages besides its default in which a survey asking this customer instrument
    (the default one unless named) can have a public title."""
    customer = _resolve(store, org_id, customer_ref, DEFAULT_CUSTOMER, "customer",
                        "customer_instrument")
    return offered_languages(customer.definition)[1:]


def _check_title_translations(branding: dict, customer: Instrument) -> None:
    """Titles only in the languages the customer instrument offers besides its default (whose
    title is public_title itself)."""
    offered = offered_languages(customer.definition)
    errors = []
    for language in (branding.get("public_title_translations") or {}):
        if language == offered[0]:
            errors.append({"field": f"branding.public_title_translations.{language}",
                           "reason": f"{language!r} is the instrument's default language: its "
                                     "title is public_title."})
        elif language not in offered:
            others = ", ".join(offered[1:]) or "no other language"
            errors.append({"field": f"branding.public_title_translations.{language}",
                           "reason": f"{customer.id} v{customer.version} does not offer "
                                     f"{language!r}; it offers {others}."})
    if errors:
        raise Invalid("The public title is translated into a language the survey does not "
                      "offer.", errors)


def create_survey(store: Store, org_id: str, data: dict) -> Survey:
    customer = _resolve(store, org_id, data.get("customer_instrument"), DEFAULT_CUSTOMER,
                        "customer", "customer_instrument")
    vendor = _resolve(store, org_id, data.get("vendor_instrument"), DEFAULT_VENDOR, "vendor",
                      "vendor_instrument")
    survey = Survey(
        id=ids.new_id(), org_id=org_id, name=data["name"], status="draft",
        customer_instrument={"id": customer.id, "version": customer.version},
        vendor_instrument={"id": vendor.id, "version": vendor.version},
        segments=_segments(customer, vendor, data.get("segments")),
        branding=data.get("branding") or {},
        settings=data.get("settings") or {},
    )
    _check_repeats(store, org_id, None, survey.settings, customer, vendor)
    _check_population(survey.settings, survey.segments)
    _check_title_translations(survey.branding, customer)
    survey = replace(survey, staff_link=new_staff_link(survey))
    return store.surveys.add(survey)


def new_staff_link(survey: Survey, now: datetime | None = None) -> dict:
    now = now or datetime.now(timezone.utc)
    days = survey.settings.get("staff_link_days", STAFF_LINK_DAYS)
    return {"id": ids.new_token(9), "expires_at": to_timestamp(now + timedelta(days=days))}


def rotate_staff_link(store: Store, org_id: str, survey_id: str, actor: str = "cli") -> Survey:
    """A new staff link (with a new expiry); every earlier one stops working at once."""
    survey = get_survey(store, org_id, survey_id)
    updated = store.surveys.update(org_id, survey_id, {"staff_link": new_staff_link(survey)})
    record(store, org_id, "survey.staff_link_rotated", actor, survey_id=survey_id)
    return updated


def current_staff_link(store: Store, survey: Survey) -> Survey:
    """The survey with a staff link (surveys made before staff links expired get one now)."""
    if survey.staff_link.get("id"):
        return survey
    return store.surveys.update(survey.org_id, survey.id, {"staff_link": new_staff_link(survey)})


def update_survey(store: Store, org_id: str, survey_id: str, changes: dict,
                  actor: str = "cli") -> Survey:
    """Applies changes by the rule above (a scoring field sent unchanged is no change) and
    records in the audit log which fields changed, never their content."""
    survey = get_survey(store, org_id, survey_id)
    merged = {field: getattr(survey, field) for field in EDITABLE}
    merged.update(changes)
    if "settings" in changes:  # the settings sent change; the others stay as they were
        merged["settings"] = {**survey.settings, **changes["settings"]}
        if survey.settings.get("anonymous_link") and not merged["settings"].get(
                "anonymous_link"):  # so the link can say it was closed, not that it never was
            merged["settings"]["anonymous_link_closed_at"] = utc_now()
    customer = _resolve(store, org_id, merged["customer_instrument"], DEFAULT_CUSTOMER,
                        "customer", "customer_instrument")
    vendor = _resolve(store, org_id, merged["vendor_instrument"], DEFAULT_VENDOR, "vendor",
                      "vendor_instrument")
    merged["customer_instrument"] = {"id": customer.id, "version": customer.version}
    merged["vendor_instrument"] = {"id": vendor.id, "version": vendor.version}
    if "segments" in changes or (merged["customer_instrument"], merged["vendor_instrument"]) != (
            survey.customer_instrument, survey.vendor_instrument):
        merged["segments"] = _segments(customer, vendor, changes.get("segments"))
    changed = [field for field in EDITABLE if merged[field] != getattr(survey, field)]
    if survey.status != "draft":
        _refuse_scoring_changes(survey, [field for field in changed if field in SCORING])
    _check_repeats(store, org_id, survey_id, merged["settings"], customer, vendor)
    _check_population(merged["settings"], merged["segments"])
    _check_title_translations(merged["branding"], customer)
    if not changed:
        return survey
    updated = store.surveys.update(org_id, survey_id, {field: merged[field] for field in changed})
    record(store, org_id, "survey.changed", actor, survey_id=survey_id,
           fields=_changed_names(survey, merged, changed))
    return updated


def _refuse_scoring_changes(survey: Survey, fields: list[str]) -> None:
    if fields:
        raise Conflict(
            f"The survey is {survey.status}: what its scores depend on (instruments and "
            "segments) can change only while it is a draft. Its name, branding and settings "
            "can change at any time.",
            [{"field": field, "reason": f"Answers are counted by it from the survey's opening "
                                        f"on; it cannot change now that it is {survey.status}."}
             for field in fields])


def _changed_names(survey: Survey, merged: dict, changed: list[str]) -> list[str]:
    """The changed fields as the audit log names them: branding and settings by their own
    fields (branding.public_title), so that the log says what was corrected."""
    names = []
    for field in changed:
        before, after = getattr(survey, field), merged[field]
        if field in ("branding", "settings"):
            names += [f"{field}.{key}" for key in sorted(set(before) | set(after))
                      if before.get(key) != after.get(key)]
        else:
            names.append(field)
    return names


def transition(store: Store, org_id: str, survey_id: str, to: str,
               actor: str = "cli") -> Survey:
    survey = get_survey(store, org_id, survey_id)
    if survey.status == to:
        return survey  # opening an open survey is a harmless retry
    if survey.status not in TRANSITIONS[to]:
        raise Conflict(f"A {survey.status} survey cannot become {to}.")
    updated = store.surveys.update(org_id, survey_id, {"status": to})
    record(store, org_id, f"survey.{'opened' if to == 'open' else to}", actor,
           survey_id=survey_id)
    return updated


# Instrument versions never change once stored, so a process may keep the ones it has read
# (parsing a full questionnaire definition on every response would be a large share of a POST).
_pinned: BoundedCache[Instrument] = BoundedCache(1000)


def _pinned_instrument(store: Store, org_id: str, ref: dict) -> Instrument:
    key = (org_id, ref["id"], ref["version"])  # org ids are unique, so this names one version
    instrument = _pinned.get(key)
    if instrument is None:
        instrument = store.instruments.get(org_id, ref["id"], ref["version"])
        if instrument is not None:
            _pinned.put(key, instrument)
    return instrument


def instruments_of(store: Store, survey: Survey) -> dict[str, Instrument]:
    """The pinned instrument versions of a survey, by kind."""
    return {"customer": _pinned_instrument(store, survey.org_id, survey.customer_instrument),
            "vendor": _pinned_instrument(store, survey.org_id, survey.vendor_instrument)}
