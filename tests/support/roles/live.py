"""Routes of the live API module and the least role each needs."""

ROLES_LIVE: dict[tuple[str, str], str | None] = {
    ("GET", "/api/inbox"): "viewer",
    ("GET", "/api/events/stream"): "viewer",
    ("GET", "/api/cases/{case_id}/presence"): "viewer",
    # Viewing needs viewer; typing needs agent (checked in the route, tested in test_live_api).
    ("POST", "/api/cases/{case_id}/presence"): "viewer",
    ("POST", "/api/cases/bulk"): "agent",
}
