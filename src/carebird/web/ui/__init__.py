"""Server-rendered pages for agents (Jinja2, autoescaped) with a little plain JavaScript.

The routers are gathered in `routes.py`, so that importing a helper (csrf, render) from here
does not pull in the pages.
"""
