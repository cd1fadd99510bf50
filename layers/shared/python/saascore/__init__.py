"""Shared domain code of the origin functions (the `shared` Lambda layer)."""
