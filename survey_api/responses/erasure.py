"""Erasing a respondent: their response goes, and so do its counts, in one transaction."""

from __future__ import annotations

from shared.cells import response_counters
from shared.instruments import validator_for
from shared.storage import Store, Survey

from ..audit import record
from shared.errors import Invalid, NotFound
from ..surveys.domain import instruments_of


def erase(store: Store, survey: Survey, actor: str, *, submission_id: str | None = None,
          invitation_id: str | None = None) -> dict:
    if bool(submission_id) == bool(invitation_id):
        raise Invalid("Name the respondent by exactly one of submission_id or invitation_id.",
                      [{"field": "submission_id", "reason": "Give this or invitation_id, "
                                                            "not both."}])
    if invitation_id:
        invitation = store.invitations.get(survey.org_id, invitation_id)
        if invitation is None or invitation.survey_id != survey.id or not invitation.response_id:
            raise NotFound(f"No response for invitation {invitation_id} in this survey.")
        stored = store.responses.get(survey.org_id, invitation.response_id, survey.id)
        submission_id = stored.submission_id if stored else None
        if submission_id is None:
            raise NotFound(f"No response for invitation {invitation_id} in this survey.")
    questions = {kind: validator_for(inst).questions
                 for kind, inst in instruments_of(store, survey).items()}
    erased = store.responses.erase(
        survey.id, submission_id,
        lambda response: response_counters(questions[response.instrument], response))
    if erased is None:
        raise NotFound(f"No response with submission id {submission_id!r} in this survey.")
    if erased.invitation_id:
        store.invitations.update(survey.org_id, erased.invitation_id,
                                 {"response_id": None, "status": "revoked"})
    record(store, survey.org_id, "response.erased", actor, survey_id=survey.id,
           response_id=erased.id, submission_id=erased.submission_id)
    return {"erased": True, "response_id": erased.id, "submission_id": erased.submission_id}
