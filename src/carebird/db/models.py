"""Imports every model module so `Base.metadata` is complete (Alembic, tests)."""

from carebird.auth import models as auth_models
from carebird.auth import throttle as throttle_models
from carebird.cases import forwarding as forwarding_models
from carebird.cases import incidents as incident_models
from carebird.cases import models as case_models
from carebird.cases import notes as note_models
from carebird.cases import presence as presence_models
from carebird.cases import routing as routing_models
from carebird.db.base import Base
from carebird.ingest import models as ingest_models
from carebird.insights import wait_store as wait_models
from carebird.live import events as event_models
from carebird.live import runners as job_models
from carebird.reply import articles as article_models
from carebird.reply import models as reply_models
from carebird.reply import suggestions as suggestion_models
from carebird.reply import survey as survey_models
from carebird.reply import templates as template_models
from carebird.understand import models_db as understand_models

__all__ = [
    "Base",
    "article_models",
    "auth_models",
    "case_models",
    "event_models",
    "forwarding_models",
    "incident_models",
    "ingest_models",
    "job_models",
    "note_models",
    "presence_models",
    "reply_models",
    "routing_models",
    "suggestion_models",
    "survey_models",
    "template_models",
    "throttle_models",
    "understand_models",
    "wait_models",
]
