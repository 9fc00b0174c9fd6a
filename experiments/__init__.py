"""One command per ablation of the robust fusion model; each writes its own table into docs/results-fusion.md."""
