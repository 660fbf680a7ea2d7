"""Routes of the composer API module and the least role each needs."""

ROLES_COMPOSER: dict[tuple[str, str], str | None] = {}
