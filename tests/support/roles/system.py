"""Routes of the admin System page's API (web/api/system.py)."""

ROLES_SYSTEM: dict[tuple[str, str], str | None] = {
    ("GET", "/api/system"): "admin",
    ("POST", "/api/system/outbox/{outbox_id}/retry"): "admin",
    ("POST", "/api/system/outbox/{outbox_id}/cancel"): "admin",
}
