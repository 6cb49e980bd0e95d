"""pdf_service's client of scoring_service: the service credential, a timeout, and clear
errors when scoring is down or slow."""

from __future__ import annotations

from urllib.parse import quote

import requests


class ScoringUnavailable(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def fetch_report(base_url: str, service_token: str, org_id: str, survey_id: str,
                 segment_by: list[str], timeout: float, request_id: str | None = None) -> dict:
    headers = {"X-Service-Token": service_token, "X-Org-Id": org_id}
    if request_id:
        headers["X-Request-ID"] = request_id  # one id across both services' logs
    try:
        # Quoted as one path segment: an id can never reach another route ("../", "#", "?").
        answer = requests.get(f"{base_url.rstrip('/')}/v1/surveys/{quote(survey_id, safe='')}"
                              "/report",
                              params=[("segment_by", s) for s in segment_by], headers=headers,
                              timeout=timeout)
    except requests.Timeout:
        raise ScoringUnavailable(504, f"The scoring service did not answer within {timeout:g} "
                                      "seconds.") from None
    except requests.RequestException:
        raise ScoringUnavailable(502, "The scoring service cannot be reached.") from None
    if answer.status_code == 404:
        raise ScoringUnavailable(404, f"No survey {survey_id}.")
    if answer.status_code == 422:
        raise ScoringUnavailable(422, answer.json().get("detail", "Invalid segments."))
    if answer.status_code != 200:
        raise ScoringUnavailable(502, f"The scoring service answered {answer.status_code}.")
    return answer.json()
