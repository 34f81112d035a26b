"""ECG-JEPA for ecgbench: self-supervised JEPA pre-training of an ECG vision transformer
(Weimann & Conrad 2024), evaluated by a linear probe and by a full fine-tune."""

__version__ = "0.1.0"
