"""What a run hands back and how it is read: `result` (`SampleResult`, the samples and the
run's record), `advice` (warnings that name the option to change), `explain` (the diagnostics in
plain words), `plots` (the trace and the samples as figures), `arviz_export` (the result as
ArviZ's InferenceData) and `tensorboard_log` (the run as a TensorBoard log). It reads the target
and the options; `samplevis.sampling.sampler.render` builds a result and nothing here imports it."""
