"""Routes of the workspace API module and the least role each needs."""

ROLES_WORKSPACE: dict[tuple[str, str], str | None] = {}
