"""HTTP routes for instruments."""

from __future__ import annotations

from flask import g
from flask.views import MethodView

from shared.auth import require_scope
from shared.extensions import get_store
from shared.web import Blueprint

from . import domain
from .schemas import InstrumentQuerySchema, InstrumentSchema, InstrumentSummarySchema

blp = Blueprint("instruments", __name__, url_prefix="/v1/instruments",
                description="Versioned questionnaires: two built in, and the organization's own")


@blp.route("")
class Instruments(MethodView):
    @require_scope("read")
    @blp.response(200, InstrumentSummarySchema(many=True))
    def get(self):
        """Every instrument version the organization can use (built-in and its own)."""
        return [domain.summary(i) for i in get_store().instruments.list(g.org_id)]

    @require_scope("admin")
    @blp.arguments(InstrumentSchema)
    @blp.response(201, InstrumentSchema)
    def post(self, definition):
        """Add an instrument, or a new version of one. Versions are immutable once added.

        A question or section may carry a display condition on earlier answers, `show_if`:
        `{"question": "q", "in": [4, 5]}` (any chosen option, for a multiple choice),
        `{"question": "q", "not_in": [...]}`, `{"question": "q", "min": 4, "max": 10}` (a
        number, or how many options were chosen), `{"question": "q", "answered": true}`, and
        `{"all": [...]}` / `{"any": [...]}`. A condition may name only questions asked before
        it and values they can take (else 422 naming the path, e.g.
        `sections.3.questions.0.show_if.in`). A ranking with `options_from` ranks only what was
        chosen in that earlier multiple choice. Responses: a hidden question is never
        required, and an answer to it is refused (422 with "Not asked with these answers");
        an empty answer (null, "", []) to it is accepted as no answer.

        **Translated instruments.** Offer languages with `languages` (the default language,
        `default_language`, "en" unless given, included) and give each other language's texts
        in `translations`, keyed by stable keys built from ids:

        ```json
        "default_language": "en",
        "languages": ["en", "de"],
        "translations": {"de": {
          "title": "Wie Sie einkaufen",
          "sections.profile.title": "Über Sie",
          "questions.size.text": "Wie viele Menschen arbeiten bei {vendor}?",
          "questions.size.options.small": "Weniger als 100",
          "questions.nps.scale_labels.0": "Sehr unwahrscheinlich"}}
        ```

        Keys: `title`, `intro`; `sections.<id>.title|intro`;
        `questions.<id>.text|help|label|group|group_hint`; `questions.<id>.options.<value>`;
        `questions.<id>.scale_labels.<position>` (empty scale labels are not texts). Every
        language offered must translate every text the definition has, with the same
        placeholders (`{vendor}`), and nothing else: otherwise 422 naming the language and
        key, e.g. `translations.de.questions.size.options.small` ("Missing") or
        `translations.de.questions.sise.text` ("Unknown key"). Option values and numbers are
        the same in every language, so answers and scores do not depend on it. Respondents see
        the invitation's `language`, else their browser's preferred one among those offered,
        else the default, and can switch on any page."""
        return domain.add_instrument(get_store(), g.org_id, definition).definition


@blp.route("/<instrument_id>")
class InstrumentById(MethodView):
    @require_scope("read")
    @blp.arguments(InstrumentQuerySchema, location="query")
    @blp.response(200, InstrumentSchema)
    def get(self, query, instrument_id):
        """One instrument: the latest version, or the one named by ?version=."""
        return domain.get_instrument(get_store(), g.org_id, instrument_id,
                                     query.get("version")).definition
