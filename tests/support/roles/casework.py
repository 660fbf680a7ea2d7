"""Routes of the casework API module and the least role each needs."""

ROLES_CASEWORK: dict[tuple[str, str], str | None] = {
    ("GET", "/api/cases/{case_id}/notes"): "viewer",
    ("POST", "/api/cases/{case_id}/notes"): "agent",
    ("GET", "/api/cases/{case_id}/customer"): "viewer",
    ("GET", "/api/cases/{case_id}/timeline"): "viewer",
    ("POST", "/api/cases/{case_id}/merge"): "agent",
    ("POST", "/api/cases/{case_id}/split"): "agent",
    ("POST", "/api/cases/{case_id}/forward"): "agent",
    ("GET", "/api/cases/{case_id}/forwards"): "viewer",
    ("POST", "/api/forwards/{forward_id}/revoke"): "agent",
    ("GET", "/api/outside-owners"): "agent",
    ("POST", "/api/outside-owners"): "supervisor",
    ("PATCH", "/api/outside-owners/{owner_id}"): "supervisor",
    ("DELETE", "/api/outside-owners/{owner_id}"): "supervisor",
}
