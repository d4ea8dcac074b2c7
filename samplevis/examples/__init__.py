"""Dataset examples: the real images that drive each unit most, beside its visualization.

    examples = samplevis.dataset_examples(model, "block4c_add:12", images="photos/", out="ex/")
    examples.ranked("block4c_add:12")  # [(file, value, (left, top, right, bottom)), ...]

One pass streams a folder (decoding in threads ahead of the network, which runs only up to the
layers the units read), keeps every unit's top images in bounded memory and the box of each that
the unit's most active position sees, and writes OUT/examples.json and PNGs; interrupted runs
resume. Modules: `images` (files, decoding, fitting to the input), `units` (what is scored, in one
compiled pass), `topk` (the running top-k, mergeable), `examples_json` (examples.json), `pictures`
(PNGs), `collect` (the pass), `clusters` (a unit's examples clustered, each cluster's start),
`gallery_section` (a folder of examples as a section of the gallery page; in a notebook, an
`Examples` shows itself so).

    starts = samplevis.examples.starts("ex/", model, "block4c_add:12", num_chains=4, size=224)
    samplevis.render(model, "block4c_add:12", hmc_opts=dict(init=starts))
"""

from samplevis.examples.clusters import Cluster, starts
from samplevis.examples.collect import Examples, dataset_examples

__all__ = ["Cluster", "Examples", "dataset_examples", "starts"]
