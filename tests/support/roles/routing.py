"""Routes of the routing rules' API (web/api/routing.py)."""

ROLES_ROUTING: dict[tuple[str, str], str | None] = {
    ("GET", "/api/routing/rules"): "supervisor",
    ("POST", "/api/routing/rules"): "supervisor",
    ("PUT", "/api/routing/rules/{rule_id}"): "supervisor",
    ("DELETE", "/api/routing/rules/{rule_id}"): "supervisor",
    ("POST", "/api/routing/dry-run"): "supervisor",
}
