"""The generate component."""
