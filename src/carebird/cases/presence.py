"""Who is viewing or typing on a case, live."""
