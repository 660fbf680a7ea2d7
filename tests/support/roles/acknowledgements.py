"""Routes of an account's acknowledgement settings (web/api/acknowledgements.py)."""

ROLES_ACKNOWLEDGEMENTS: dict[tuple[str, str], str | None] = {
    ("GET", "/api/accounts/{account_id}/acknowledgements"): "admin",
    ("PUT", "/api/accounts/{account_id}/acknowledgements"): "admin",
}
