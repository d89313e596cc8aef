"""Measurements on trained models and data (errors, ranks, spectra, ...)."""
