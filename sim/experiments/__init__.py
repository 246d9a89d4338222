"""Experiments: replications, paired comparisons, sweeps, the result store, executors."""
