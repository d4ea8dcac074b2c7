"""What the chains sample: `log_density` (the log density over an image parameterization's state),
`chain_param` (what of each start moves: its coarse coefficients and a warp), `momentum` (the
momentum's mass), `temperature` (T's rule and its adaptation during burn-in) and `facet_mass` (a
facet's Laplace mass and its error). It builds on the image-free core, `samplevis.sampling.mcmc`;
`samplevis.sampling.sampler.render` runs the phases in order."""
