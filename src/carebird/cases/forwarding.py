"""Forwarding a case to an outside owner (a supplier, a subcontractor)."""
