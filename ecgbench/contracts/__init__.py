"""Task contracts: what a model of each task must implement and what its outputs must satisfy.

One module per task. Each holds the model Protocol and a ``check_*`` function that the
harness applies to every output; a broken clause raises
:class:`ecgbench.errors.ContractViolation` naming the model and the clause.
"""

from ecgbench.contracts.checks import require

__all__ = ["require"]
