"""Generic machinery over experiments: registry, run, sweep, store, executors, progress."""
