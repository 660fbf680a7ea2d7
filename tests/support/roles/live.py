"""Routes of the live API module and the least role each needs."""

ROLES_LIVE: dict[tuple[str, str], str | None] = {}
