"""Routes of the figures' API (web/api/metrics.py)."""

ROLES_METRICS: dict[tuple[str, str], str | None] = {
    ("GET", "/api/metrics"): "supervisor",
    ("GET", "/api/metrics/{name}.csv"): "supervisor",
    ("GET", "/api/metrics/{name}.json"): "supervisor",
}
