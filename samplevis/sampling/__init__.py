"""Sampling many diverse high-activation images with Hamiltonian Monte Carlo.

`mcmc` is the image-free core: `mcmc.kernels` (TFP kernels, per-chain step sizes),
`mcmc.chain` (blocked runs with progress and Ctrl-C), `mcmc.curvature` (each state part's
stiffness and step), `mcmc.diagnostics` (acceptance, divergences, R-hat, ESS), `mcmc.stationarity`
(the limits of R-hat and the trend for chains as autocorrelated as each): numbers only. Over it,
`density` (what the chains sample: the log density, what of a start moves, the momentum's mass,
the temperature, a facet's mass), `starts` (where the chains start: the optimized starts, the
facet search, the photos' clusters); `metrics` (image statistics),
`registration` (the structural distance once bends are taken out), `options` (`hmc_opts`,
their defaults and checks); `report`: what the draws may claim (`report.verdict`), what a run
drew and measured (`report.run`), its sentences (`report.summary`, `report.diagnostics_line`), its warnings
(`report.advice`), its diagnostics in words (`report.explain`), its pictures and figures
(`report.pictures`, `report.plots`), its folder (`report.run_folder`), ArviZ
(`report.arviz_export`) and TensorBoard (`report.tensorboard_log`), and `SampleResult`
(`report.result`), which offers them as its methods; `phases` (each phase of a
`render` call: the starts and facets, the chains' run, the result); and `sampler` (`render` and
its input checks), which runs the phases in order. Submodules import TensorFlow, so import them
directly.
"""
