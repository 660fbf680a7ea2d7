"""Files read into the desk: the TWCS CSV and carebird's own JSON lines."""
