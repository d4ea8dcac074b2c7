"""Sampling many diverse high-activation images with Hamiltonian Monte Carlo.

`mcmc` is the image-free core: `mcmc.kernels` (TFP kernels, per-chain step sizes),
`mcmc.chain` (blocked runs with progress and Ctrl-C), `mcmc.curvature` (each state part's
stiffness and step), `mcmc.diagnostics` (acceptance, divergences, R-hat, ESS). Over it,
`density` (what the chains sample): `density.log_density` (the log density over an image
parameterization's state), `density.facet` (what of a start moves), `density.momentum` (the
momentum's mass), `density.starts` (the optimized starts), `density.facet_search` (the search
that finds the facets seeds miss), `density.temperature` (the rule for T and its tuning),
`density.facet_mass` (a facet's Laplace mass and its error); `metrics` (image statistics),
`registration` (the structural distance once bends are taken out), `options` (`hmc_opts`,
their defaults and checks); `report`: a run as `report.result` (`SampleResult`), its warnings
(`report.advice`), its diagnostics in words (`report.explain`), figures (`report.plots`), ArviZ
(`report.arviz_export`) and TensorBoard (`report.tensorboard_log`); and `api` (`render`), which
runs the phases in order. Submodules import TensorFlow, so import them directly.
"""
