"""FeatureDB single-lead interval measurement (PR, QRS, QT, QTc, HR) for ecgbench, and ECGdeli
as an optional open-source comparator."""

__version__ = "0.1.0"
