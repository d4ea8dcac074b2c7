"""A toy unit whose two facets are known exactly (tests/sampling/test_facet_search.py says how
the search meets them): it reads an image's mean colour (r, g, b) through a 1x1 convolution
("colours", the identity) and answers max(A, B), A = r - g - b + 1 highest (2) for pure red,
B = k (g + b - r) + c highest (2k + c) for pure cyan, with B at grey 0.45 < A."""

import keras
import numpy as np


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
