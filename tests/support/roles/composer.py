"""Routes of the composer API module and the least role each needs."""

ROLES_COMPOSER: dict[tuple[str, str], str | None] = {
    ("POST", "/api/cases/{case_id}/compose"): "agent",
    ("POST", "/api/cases/{case_id}/card"): "agent",
    ("GET", "/api/templates"): "agent",
    ("GET", "/api/templates/{template_id}"): "agent",
    ("POST", "/api/templates"): "supervisor",
    ("PATCH", "/api/templates/{template_id}"): "supervisor",
    ("DELETE", "/api/templates/{template_id}"): "supervisor",
}
