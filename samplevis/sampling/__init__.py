"""Sampling many diverse high-activation images with Hamiltonian Monte Carlo.

Layers: `kernels` (TFP kernels, per-chain step
sizes), `chain` (blocked runs with progress and Ctrl-C), `diagnostics`
(acceptance, divergences, R-hat, ESS), `energy` (the target density over an
image parameterization's state), `mass` (the momentum's mass), `temperature`
(the rule for T and its tuning), `options` (`hmc_opts`, their defaults and
checks), `api` (`render`), `result` (`SampleResult`), `metrics` (image
statistics). Submodules import TensorFlow, so import them
directly.
"""
