"""The summarize component."""
