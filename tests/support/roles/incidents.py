"""Routes of the incidents' API (web/api/incidents.py)."""

ROLES_INCIDENTS: dict[tuple[str, str], str | None] = {
    ("GET", "/api/incidents"): "viewer",
    ("GET", "/api/incidents/{incident_id}"): "viewer",
    ("POST", "/api/incidents"): "agent",
    ("PUT", "/api/incidents/{incident_id}/title"): "agent",
    ("POST", "/api/incidents/{incident_id}/cases"): "agent",
    ("POST", "/api/incidents/{incident_id}/split"): "agent",
    ("POST", "/api/incidents/{incident_id}/merge"): "agent",
    ("POST", "/api/incidents/{incident_id}/reply/preview"): "agent",
    ("POST", "/api/incidents/{incident_id}/reply"): "agent",
    ("POST", "/api/incidents/{incident_id}/close"): "agent",
}
