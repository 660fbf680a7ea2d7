"""Web: the JSON API and the agent pages."""
