"""Routes of the satisfaction scores (web/api/satisfaction.py)."""

ROLES_SATISFACTION: dict[tuple[str, str], str | None] = {
    ("GET", "/api/satisfaction"): "supervisor",
}
