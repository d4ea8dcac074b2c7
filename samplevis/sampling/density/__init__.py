"""What the chains sample: `log_density` (the log density over an image parameterization's state),
`facet` (what of each start moves: its coarse coefficients and a warp), `momentum` (the
momentum's mass), `starts` (the optimized starts), `facet_search` (seeds, then climbs steered
away from every facet found, which make the chains' starts), `temperature` (T's rule and its
adaptation during burn-in) and `facet_mass` (a facet's Laplace mass and its error). It builds
on the image-free core, `samplevis.sampling.mcmc`; `samplevis.sampling.api.render` runs its
phases in order."""
