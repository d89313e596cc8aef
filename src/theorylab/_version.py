"""The package version (part of every stored task's key)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("theorylab")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0+source"
