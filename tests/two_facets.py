"""A toy unit whose two facets are known exactly (tests/sampling/test_facet_search.py says how
the search meets them): it reads an image's mean colour (r, g, b) through a 1x1 convolution
("colours", the identity) and answers max(A, B), A = r - g - b + 1 highest (2) for pure red,
B = k (g + b - r) + c highest (2k + c) for pure cyan, with B at grey 0.45 < A. `searched` runs
the facet search on a unit from two seeds, `mean_colour` reads a facet's colour."""

import keras
import numpy as np
import tensorflow as tf

import samplevis
from samplevis import objectives, param
from samplevis.optvis.optimize import Renderer
from samplevis.sampling.starts import designs, search

SIZE, CHAINS = 32, 2


def two_facet_unit(cyan_slope: float) -> keras.Model:
    inputs = keras.Input((None, None, 3))
    colours = keras.layers.Conv2D(3, 1, name="colours")(inputs)
    facets = keras.layers.Conv2D(2, 1, name="facets")(colours)
    means = keras.layers.GlobalAveragePooling2D(keepdims=True, name="means")(facets)
    unit = keras.layers.Lambda(lambda x: keras.ops.max(x, axis=-1, keepdims=True), name="unit")(
        means
    )
    model = keras.Model(inputs, unit)
    model.get_layer("colours").set_weights([np.eye(3).reshape(1, 1, 3, 3), np.zeros(3)])
    red = [1.0, -1.0, -1.0]
    cyan = [-cyan_slope, cyan_slope, cyan_slope]
    cyan_offset = 0.45 - 0.5 * cyan_slope  # B at grey
    weights = np.array([red, cyan], np.float32).T.reshape(1, 1, 3, 2)
    model.get_layer("facets").set_weights([weights, np.array([1.0, cyan_offset], np.float32)])
    return model


def searched(
    unit: keras.Model,
    floor: float,
    layer: str,
    rounds: int = 1,
    searches: tuple[str, ...] = designs.SEARCHES,
) -> tuple[search.FacetSearch, object]:
    """The facet search of a toy unit's channel 0 from two seeds, comparing `layer`'s features."""
    model = samplevis.Model(unit, value_range=(0, 1))
    objective = objectives.channel("unit", 0)
    image = param.image(SIZE, batch=CHAINS, fft=False, decorrelate=False)
    seeds = Renderer(model, objective, image).run((64,), seed=0, progress=False, return_state=True)

    def activation(state):
        images = image.to_image(tuple(tf.constant(s) for s in state))
        return model.features(images, ["unit"])["unit"].numpy().reshape(-1)

    settings = search.SearchSettings(
        rounds=rounds,
        floor=floor,
        strength=1.0,
        distance=0.3,
        layer=layer,
        climb_steps=64,
        polish_steps=64,
        searches=searches,
    )
    found = search.search_facets(
        model, objective, image, seeds.state, activation, settings, tf.constant([0, 1])
    )
    return found, image


def mean_colour(found: search.FacetSearch, image, k: int) -> np.ndarray:
    state = tuple(tf.constant(np.repeat(p, CHAINS, 0)) for p in found.facets[k].states[0])
    return image.to_image(state).numpy()[0].mean(axis=(0, 1))
