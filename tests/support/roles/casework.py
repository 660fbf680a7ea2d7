"""Routes of the casework API module and the least role each needs."""

ROLES_CASEWORK: dict[tuple[str, str], str | None] = {}
