"""Neural building blocks shared by several plugins (torch is imported here, not in the core).

Install with the ``nn`` extra: ``pip install ecgbench-harness[nn]``.
"""
