"""render_vis on the built-in pretrained model: a class visualization that the model recognizes."""
import numpy as np

import samplevis
from samplevis import objectives, param, zoo
from conftest import photo

PHOTOS = ("chelsea", "coffee", "astronaut", "rocket", "camera")


def test_rendering_espresso_beats_every_photo_and_is_classified_espresso(effnet):
    espresso = zoo.label_index("espresso")
    images = samplevis.render_vis(effnet, objectives.class_logit("espresso"),
                                  param_f=lambda: param.image(96), thresholds=(48,), seed=0,
                                  progress=False)
    logits = effnet.activations(images[-1], ["logits"])["logits"][0]
    photo_logits = [effnet.activations(photo(p), ["logits"])["logits"][0, espresso] for p in PHOTOS]
    assert logits[espresso] > max(photo_logits), (logits[espresso], photo_logits)
    assert espresso in np.argsort(-logits)[:5]


def test_optimized_channel_is_far_above_a_random_start(effnet):
    obj = objectives.channel("block4a_expand_activation", 7)
    result = samplevis.render_vis(effnet, obj, param_f=lambda: param.image(64), thresholds=(24,),
                                  seed=1, progress=False, return_state=True)
    start = param.image(64).build(1)[1]()
    start_value = effnet.activations(start, ["block4a_expand_activation"])
    start_value = start_value["block4a_expand_activation"][..., 7].mean()
    assert result.values[0] > 3 * max(start_value, 0.05), (result.values, start_value)
