"""Task runners: how each task is run on a model and scored (one module per task)."""
