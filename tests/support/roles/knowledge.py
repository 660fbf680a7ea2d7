"""Routes of the knowledge base and the suggestions (web/api/articles.py, suggestions.py)."""

ROLES_KNOWLEDGE: dict[tuple[str, str], str | None] = {
    ("GET", "/api/articles"): "agent",
    ("POST", "/api/articles"): "supervisor",
    ("GET", "/api/articles/{article_id}"): "agent",
    ("PATCH", "/api/articles/{article_id}"): "supervisor",
    ("DELETE", "/api/articles/{article_id}"): "supervisor",
    ("GET", "/api/articles/{article_id}/versions"): "agent",
    ("GET", "/api/cases/{case_id}/suggestions"): "agent",
    ("POST", "/api/cases/{case_id}/suggestions/uses"): "agent",
    ("PUT", "/api/suggestion-uses/{use_id}/sent"): "agent",
    ("GET", "/api/suggestions/proposals"): "supervisor",
}
