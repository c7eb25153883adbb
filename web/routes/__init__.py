"""Thin routes: parse, call one query or handler, return a response model."""
