"""Routes of the People API (web/api/people.py)."""

ROLES_PEOPLE: dict[tuple[str, str], str | None] = {
    ("GET", "/api/people"): "admin",
    ("POST", "/api/people"): "admin",
    ("PATCH", "/api/people/{agent_id}"): "admin",
    ("POST", "/api/people/{agent_id}/invitation"): "admin",
    ("POST", "/api/people/{agent_id}/password-reset"): "admin",
    ("GET", "/api/tokens"): "viewer",
    ("DELETE", "/api/tokens/{token_id}"): "viewer",
}
