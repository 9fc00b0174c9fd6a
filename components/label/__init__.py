"""The label component."""
