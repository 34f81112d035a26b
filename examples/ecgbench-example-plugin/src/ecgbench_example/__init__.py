"""An example ecgbench plugin."""

__version__ = "0.1.0"
