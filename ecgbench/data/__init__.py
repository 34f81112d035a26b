"""Datasets: the in-memory ECGDataset, the phantom generator, PTB-XL and WFDB readers, the
label vocabulary and lead conventions, ECG image rendering and image question–answer items.

Submodules are imported where they are used, so ``import ecgbench.data`` stays light.
"""
