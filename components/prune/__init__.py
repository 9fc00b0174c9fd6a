"""The prune component."""
