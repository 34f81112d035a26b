"""ecgbench: one harness, four ECG task contracts, models from plugins.

Plugins import only the public names re-exported here and the modules
`ecgbench.contracts`, `ecgbench.data`, `ecgbench.testing`, `ecgbench.weights`, `ecgbench.conversion`
and `ecgbench.nn`.
"""

from ecgbench.hookspecs import ECGBENCH_PLUGIN_API, hookimpl
from ecgbench.progress import Progress
from ecgbench.specs import DatasetSpec, MetricSpec, ModelSpec, TaskSpec, WeightsSpec

__version__ = "0.1.0"

__all__ = [
    "ECGBENCH_PLUGIN_API",
    "DatasetSpec",
    "MetricSpec",
    "ModelSpec",
    "Progress",
    "TaskSpec",
    "WeightsSpec",
    "__version__",
    "hookimpl",
]
