"""The phases of one `render` call (samplevis.sampling.sampler), each a function of explicit
inputs: `carried` (the call's checked inputs, what the finished phases made, the clock),
`facet_starts` (the optimized starts or the photo clusters' facets, the facet search, the
chains' starts at the facets), `chain_run` (T, the kernel, burn-in and the samples, the facets'
log-masses), `facet_checks` (each facet's processing check and blur measure against its
photos), `nearest_examples` (an examples.json's examples nearest each facet) and `outcome` (the
`SampleResult` of what was made, also at Ctrl-C)."""
