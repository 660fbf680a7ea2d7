"""Prepared answers with variables, in French and English."""
