"""Bandwidth Voice API v2 (Programmable Voice)."""
