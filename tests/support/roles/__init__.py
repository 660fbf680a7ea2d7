"""The least role each workspace API route needs, one module per owner; merged into
tests/integration/test_api.py's API_ROLES (a route missing from every map fails the tests)."""

from tests.support.roles.acknowledgements import ROLES_ACKNOWLEDGEMENTS
from tests.support.roles.casework import ROLES_CASEWORK
from tests.support.roles.composer import ROLES_COMPOSER
from tests.support.roles.incidents import ROLES_INCIDENTS
from tests.support.roles.knowledge import ROLES_KNOWLEDGE
from tests.support.roles.live import ROLES_LIVE
from tests.support.roles.metrics import ROLES_METRICS
from tests.support.roles.people import ROLES_PEOPLE
from tests.support.roles.routing import ROLES_ROUTING
from tests.support.roles.satisfaction import ROLES_SATISFACTION
from tests.support.roles.system import ROLES_SYSTEM
from tests.support.roles.teams import ROLES_TEAMS
from tests.support.roles.workspace import ROLES_WORKSPACE

__all__ = [
    "ROLES_ACKNOWLEDGEMENTS",
    "ROLES_CASEWORK",
    "ROLES_COMPOSER",
    "ROLES_INCIDENTS",
    "ROLES_KNOWLEDGE",
    "ROLES_LIVE",
    "ROLES_METRICS",
    "ROLES_PEOPLE",
    "ROLES_ROUTING",
    "ROLES_SATISFACTION",
    "ROLES_SYSTEM",
    "ROLES_TEAMS",
    "ROLES_WORKSPACE",
]
