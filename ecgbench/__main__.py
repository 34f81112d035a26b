"""``python -m ecgbench``: the ``ecgbench`` command (what ``torchrun ... -m ecgbench run ...`` starts)."""

import sys

from ecgbench.cli import main

sys.exit(main())
