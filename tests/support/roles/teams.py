"""Routes of the teams' and agents' status API (web/api/teams.py)."""

ROLES_TEAMS: dict[tuple[str, str], str | None] = {
    ("GET", "/api/teams"): "agent",
    ("POST", "/api/teams"): "admin",
    ("PATCH", "/api/teams/{team_id}"): "admin",
    ("DELETE", "/api/teams/{team_id}"): "admin",
    ("PUT", "/api/teams/{team_id}/members/{agent_id}"): "admin",
    ("DELETE", "/api/teams/{team_id}/members/{agent_id}"): "admin",
    ("PUT", "/api/agents/me/status"): "agent",
    ("PUT", "/api/agents/{agent_id}/status"): "supervisor",
}
