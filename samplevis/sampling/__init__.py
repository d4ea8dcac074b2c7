"""Sampling many diverse high-activation images with Hamiltonian Monte Carlo.

Layers: `kernels` (TFP kernels, per-chain step
sizes), `chain` (blocked runs with progress and Ctrl-C), `diagnostics`
(acceptance, divergences, R-hat, ESS), `energy` (the target density over an
image parameterization's state), `api` (`render`), `metrics` (image
statistics for benchmarks). Submodules import TensorFlow, so import them
directly.
"""
