"""Plain SQL read functions for the web app (rows in, dicts or small dataclasses out)."""
