"""Answering a web form over HTTP as a browser would post it, page by page."""

from __future__ import annotations

import re

from survey_api.forms.domain import pages_for


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def answer_every_page(client, path: str, instrument: dict, answers: dict,
                      headers: dict | None = None):
    """GET each page of the form at `path` and post its answers (rankings as one field per
    rank); the last page's answer, which the caller checks."""
    done = None
    for page in pages_for(instrument, {}):
        html = client.get(f"{path}?page={page.number}", headers=headers).get_data(as_text=True)
        data = {"csrf_token": csrf_token(html), "page": str(page.number), "action": "next"}
        for q in page.questions:
            value = answers[q["id"]]
            if q["type"] == "ranking":
                for rank, option in enumerate(value, 1):
                    data[f"{q['id']}__rank{rank}"] = option
            else:
                data[q["id"]] = value
        done = client.post(path, data=data)
        assert done.status_code == 303, done.get_data(as_text=True)[:500]
    return done
