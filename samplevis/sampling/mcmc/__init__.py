"""The MCMC core: kernels, the block driver, per-part curvature and the chains' diagnostics.

It knows nothing of images, models or objectives: a target is a function of state parts (each
[C, ...], the chain axis first) returning log pi [C], and every function takes its inputs as
arguments. `kernels` builds the `tfp.mcmc` kernels (HMC, MALA, NUTS) and reads each step's
per-chain figures; `chain` runs a `ChainPlan` in compiled blocks (progress, Ctrl-C, resuming);
`curvature` measures how stiff each state part is and scales its step; `diagnostics` turns a
run into acceptance, divergences, split R-hat, ESS and E-BFMI, and `stationarity` sets the
limits of R-hat and the trend for chains as autocorrelated as each. Numbers only, as TFP's `mcmc`:
the report words them (`report.verdict`, `report.diagnostics_line`, `report.explain`) and writes
them (`report.run_json`). Its tests sample Gaussians whose mean and variance are known.
`tests/test_layering.py` keeps it from importing the rest of `samplevis.sampling` or anything
about images.
"""
