"""Live events fanned out across processes through the database."""
