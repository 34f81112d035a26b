"""SSSD-ECG for ecgbench: DDPM on the S4 DiffWave backbone, 71-label conditional, 8 leads + 4 derived."""
