"""MoRE for ecgbench: ECG–report contrastive pre-training (Thapa et al. 2024), zero-shot and
linear-probe classification, and the ``retrieve-report`` task that this plugin registers."""

__version__ = "0.1.0"
