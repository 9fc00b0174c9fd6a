"""FIDDLE-equivalent featurizer over MEDS events and FIDDLE long tables (see README.md in this package)."""
