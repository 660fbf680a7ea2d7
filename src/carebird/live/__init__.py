"""What is happening now, across processes: live events and the runners' heartbeats."""
