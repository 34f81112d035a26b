"""Reference models of ecgbench: one simple, honest model per task."""

__version__ = "0.1.0"
