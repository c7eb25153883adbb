"""Pydantic schemas of the API, in families (*In for payloads, *Read / *Page for answers)."""
