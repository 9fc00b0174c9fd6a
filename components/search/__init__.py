"""The search component."""
