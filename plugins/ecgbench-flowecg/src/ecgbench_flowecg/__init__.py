"""FlowECG for ecgbench: conditional flow matching on the SSSD-ECG backbone, sampled by ODE solvers."""
