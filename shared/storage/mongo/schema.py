"""The MongoDB documents: records keyed by `_id`, and the shard keys of the big collections."""

from __future__ import annotations

import hashlib

from ..codec import from_doc, to_doc


# Shard keys, applied by initialize() when the server is a mongos. The unique index of
# responses IS its shard key (a sharded unique index must start with the shard key), and
# (sk, survey_id, submission_id) is unique exactly when (survey_id, submission_id) is, because
# sk is a function of survey_id. Within one survey, chunks split on submission ids, so even one
# huge survey spreads over shards.
SHARD_KEYS = {
    "responses": {"sk": 1, "survey_id": 1, "submission_id": 1},
    "aggregates": {"sk": 1, "_id": 1},
}
RESPONSES_UNIQUE = "sk_1_survey_id_1_submission_id_1"
LEGACY_RESPONSES_UNIQUE = "survey_id_1_submission_id_1"


def shard_prefix(survey_id: str) -> str:
    """Two bytes of a hash of the survey id: new surveys land anywhere in the key space."""
    return hashlib.blake2b(survey_id.encode(), digest_size=2).hexdigest()


def survey_filter(survey_id: str) -> dict:
    return {"sk": shard_prefix(survey_id), "survey_id": survey_id}



def to_mongo(record) -> dict:
    doc = to_doc(record)
    doc["_id"] = doc.pop("id")
    return doc


def from_mongo(cls, doc):
    if doc is None:
        return None
    doc = dict(doc)
    doc["id"] = doc.pop("_id")
    return from_doc(cls, doc)
