"""Feature visualization by optimization, after Lucid's `optvis`: `objectives` (what to
maximize, composable), `param` (how an image is parameterized: pixels, FFT, decorrelated colour,
lowres, pyramid, CPPN, alpha, from images), `transform` (the random views that make an image
robust), `optimize` (`render_vis`), `renderer` (`Renderer`, the compiled program `render_vis`
runs, and its loop to the thresholds), `render_arguments` (the arguments both read and check),
`maco` (MACO's phase-only images), `evaluation` (an objective's value of images) and `recipes`
(the parts of a render chosen by name).
Submodules import TensorFlow, so import them directly:

    from samplevis.optvis import objectives, param, transform
"""
