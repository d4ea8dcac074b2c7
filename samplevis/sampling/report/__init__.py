"""What a run hands back and how it is read, in layers, each importing only those below it:

- what the draws may claim: `verdict` (which chains' draws are not from their density, and
  why, from the diagnostics alone);
- what the run drew and measured: `run` (`Run`, the run's fields and the numbers read from
  them, and its `Facet`s; no sentences, no files);
- its words, functions of what it drew and measured: `summary` (the lines that sum a run up:
  `draws_line`, `facets_line`, `kinds_line`, ...), `facet_draws` (what each facet's draws add: those that
  differ, what varied, where they vary), `facet_processing`, `processing_bar`, `facet_blur`,
  `facet_natural` and `kind_names` (whether each facet is processed like its photos, and each
  kind as often as its photos are; what it keeps of its value under a mild blur against them;
  the measures no climb applies, as `phases.facet_checks` measured them; and its kind in words),
  `advice` (warnings that name the option to change), `diagnostics_line` and `explain` (the
  diagnostics in a line and in plain words);
- its pictures and files: `pictures` (the grids, the GIF, the std and structure maps, every draw
  as a PNG), `plots` (the trace and the samples as figures), `facet_examples` (the top images
  that name each facet), `run_json` (the run as a JSON value, what `samplevis sample` writes as
  diagnostics.json, and its parts read back), `run_folder` (the run's folder: what
  `SampleResult.save` and `samplevis sample` write), `arviz_export` (ArviZ's InferenceData),
  `tensorboard_log` (a TensorBoard log);
- its page: `run_figures` and `gallery_section` (the folder as sections of the gallery page),
  `inline` (those sections in a notebook);
- `result`: `SampleResult`, what `render` returns, a `Run` that offers all of the above as its
  methods (`save`, `_repr_html_`, `draws_line`, `grid`, ...).

It reads the density and the options, and runs no network: the phases measure (`phases`),
the report words what they measured. `samplevis.sampling.sampler.render` builds a result and
nothing here imports it."""
