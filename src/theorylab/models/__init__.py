"""Torch modules and training loops shared by papers (random networks, linear readouts, ...)."""
