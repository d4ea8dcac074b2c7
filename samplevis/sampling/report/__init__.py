"""What a run hands back and how it is read: `result` (`SampleResult`, the samples and what the
run measured), `record` (the run as a JSON value, what `samplevis sample` writes as
diagnostics.json, and its parts read back), `summary` (the lines that sum a run up),
`facet_examples` (the top images that name each facet), `facet_draws` (what each facet's draws
add: those that differ, what varied, where they vary), `advice` (warnings that name the option
to change), `explain` (the diagnostics in plain words), `plots` (the trace and the samples as
figures), `arviz_export` (the result as ArviZ's InferenceData), `tensorboard_log` (the run as
a TensorBoard log), `run_folder` (the run's folder: what `SampleResult.save` and `samplevis
sample` write), `gallery_section` and `run_figures` (that folder as sections of the gallery
page) and `inline` (those sections in a notebook, `SampleResult._repr_html_`). It reads the
target and the options; `samplevis.sampling.sampler.render` builds a result and nothing here
imports it."""
