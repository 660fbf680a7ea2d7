"""Insights: response times, volumes, exports."""
