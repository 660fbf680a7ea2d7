"""Cases: threading, statuses, routing and the event log."""
