"""Running the desk: what an operator asks of a deployment (`carebird doctor`)."""
