"""The profile component."""
