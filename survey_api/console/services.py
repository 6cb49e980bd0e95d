"""The console's calls to scoring_service (the report) and pdf_service (briefs) over HTTP,
with the service credential on behalf of the signed-in person's organization."""

from __future__ import annotations

import requests

from pdf_service.scoring_client import ScoringUnavailable, fetch_report  # noqa: F401


class BriefsUnavailable(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _call(method: str, url: str, service_token: str, org_id: str, timeout: float, **kwargs):
    headers = {"X-Service-Token": service_token, "X-Org-Id": org_id}
    try:
        answer = requests.request(method, url, headers=headers, timeout=timeout, **kwargs)
    except requests.Timeout:
        raise BriefsUnavailable(f"The brief service did not answer within {timeout:g} "
                                "seconds.") from None
    except requests.RequestException:
        raise BriefsUnavailable("The brief service cannot be reached.") from None
    if answer.status_code >= 400:
        try:
            detail = answer.json().get("detail")
        except ValueError:
            detail = None
        raise BriefsUnavailable(detail or f"The brief service answered {answer.status_code}.")
    return answer


class Briefs:
    """pdf_service's brief routes, as the console uses them."""

    def __init__(self, base_url: str, service_token: str, org_id: str, timeout: float = 60):
        self.base, self.token, self.org_id, self.timeout = (base_url.rstrip("/"), service_token,
                                                            org_id, timeout)

    def _call(self, method, path, **kwargs):
        return _call(method, self.base + path, self.token, self.org_id, self.timeout, **kwargs)

    def create(self, survey_id: str, audience: str) -> dict:
        return self._call("POST", "/v1/briefs", json={"survey_id": survey_id,
                                                       "audience": audience}).json()

    def list(self, survey_id: str) -> list[dict]:
        return self._call("GET", f"/v1/surveys/{survey_id}/briefs").json()

    def get(self, brief_id: str) -> dict:
        return self._call("GET", f"/v1/briefs/{brief_id}").json()

    def pdf(self, brief_id: str) -> bytes:
        return self._call("GET", f"/v1/briefs/{brief_id}.pdf").content

    def share(self, brief_id: str) -> dict:
        return self._call("POST", f"/v1/briefs/{brief_id}/share", json={}).json()

    def email(self, brief_id: str, to: str) -> dict:
        return self._call("POST", f"/v1/briefs/{brief_id}/email", json={"to": [to]}).json()
