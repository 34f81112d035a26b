"""The ``retrieve-report`` task this plugin registers: its contract, metrics and evaluator.

Import-light (numpy, pydantic and the core): a third-party retrieval model depends on these
modules, not on the MoRE model's torch and transformers code.
"""
