"""ProtoECGNet for ecgbench: prototype branches over the 71 PTB-XL statements, case-based
explanations and prototype phenotypes. ``plugin`` registers the model without importing torch."""

__version__ = "0.1.0"
