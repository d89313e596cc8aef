"""One module per paper; see :mod:`theorylab.experiments.base` for the contract."""
