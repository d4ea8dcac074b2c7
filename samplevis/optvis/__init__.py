"""Feature visualization by optimization, after Lucid's `optvis`: `objectives` (what to
maximize, composable), `param` (how an image is parameterized: pixels, FFT, decorrelated colour,
lowres, pyramid, CPPN, alpha, from images), `transform` (the random views that make an image
robust), `optimize` (`render_vis`), `renderer` (`Renderer`, the compiled program `render_vis`
runs, and its loop to the thresholds), `render_arguments` (the arguments both read and check),
`maco` (MACO's phase-only images), `evaluation` (an objective's value of images), `recipes`
(the parts of a render chosen by name), and measures of how far to trust an image:
`processing_check` (Geirhos et al.'s: processed like its photos?), `blur_check` (does it keep
as much of its value under a mild blur as its photos do?) and `natural_measures` (what no climb
applies: its value at half resolution, its colourfulness, its likeness to a single photo), all
for `render_vis`'s and `maco`'s images as for a run's facets.
Submodules import TensorFlow, so import them directly:

    from samplevis.optvis import objectives, param, transform
"""
