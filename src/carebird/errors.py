"""One error hierarchy; services raise these, the web layer maps them to HTTP statuses.

CarebirdError
├── NotFound              404
├── Conflict              409
│   └── InvalidTransition     a status change the case state machine forbids
├── InvalidInput          422  (bad rows, malformed payloads)
│   └── PersonalDataInPublic  a public reply carrying a phone number, e-mail, reference…
├── AuthError             401
│   └── Forbidden             403  (authenticated, wrong role)
└── ConnectorError        502  (a network refused or failed)
    ├── RateLimited           with `retry_after` seconds
    ├── TransientNetworkError a 5xx, a timeout, a dropped connection: retry later
    └── BudgetExhausted       the account's monthly API spending cap is reached
"""

from __future__ import annotations


class CarebirdError(Exception):
    status_code = 500


class NotFound(CarebirdError):
    status_code = 404


class Conflict(CarebirdError):
    status_code = 409


class InvalidTransition(Conflict):
    pass


class InvalidInput(CarebirdError):
    status_code = 422


class PersonalDataInPublic(InvalidInput):
    """A public reply would expose personal data: answer in a private message instead."""

    def __init__(self, kinds: list[str]) -> None:
        super().__init__(
            "this public reply contains personal data ("
            + ", ".join(kinds)
            + "): send it as a private message"
        )
        self.kinds = kinds


class AuthError(CarebirdError):
    status_code = 401


class Forbidden(AuthError):
    status_code = 403


class ConnectorError(CarebirdError):
    status_code = 502


class RateLimited(ConnectorError):
    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransientNetworkError(ConnectorError):
    pass


class BudgetExhausted(ConnectorError):
    pass
