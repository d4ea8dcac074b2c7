"""The phases of one `render` call (samplevis.sampling.sampler), each a function of explicit
inputs: `records` (the call's checked inputs, what the finished phases made, the clock),
`facet_starts` (the optimized starts or the photo clusters' facets, the facet search, the
chains' starts at the facets), `chain_run` (T, the kernel, burn-in and the samples, the facets'
log-masses) and `outcome` (the `SampleResult` of what was made, also at Ctrl-C)."""
