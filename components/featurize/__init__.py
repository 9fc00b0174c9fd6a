"""The featurize component."""
