"""Robust fusion of ICU time series and chest X-rays (arXiv 2405.15442), its baselines, trainer and evaluation.

Entry point: `python -m model.fusion.run` (train + evaluate one configuration); library: `run_experiment`.
"""
