"""Imports every model module so `Base.metadata` is complete (Alembic, tests)."""

from carebird.auth import models as auth_models
from carebird.cases import models as case_models
from carebird.db.base import Base
from carebird.ingest import models as ingest_models
from carebird.reply import models as reply_models
from carebird.understand import models_db as understand_models

__all__ = [
    "Base",
    "auth_models",
    "case_models",
    "ingest_models",
    "reply_models",
    "understand_models",
]
