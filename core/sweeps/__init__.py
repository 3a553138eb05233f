"""Sweeps: a base config + axes, searched with Optuna; trials are ordinary runs."""
