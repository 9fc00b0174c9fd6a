"""Kubeflow Pipelines components: one folder per step, each a thin wrapper over a function in pipelines.steps
(or pipelines.steps_model). Top-level imports in component files: standard library and kfp only; every component
names its image from components/images.json (the one image setting).
"""
