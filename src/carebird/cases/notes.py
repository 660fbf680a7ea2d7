"""Internal notes on a case."""
