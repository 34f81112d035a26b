"""The pulses cohort fixture (ecgbench.testing.pulses)."""

from ecgbench.testing.pulses import pulses  # noqa: F401
