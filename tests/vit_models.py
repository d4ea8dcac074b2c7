"""A hand-built vision transformer whose units are known filters, for the token-layer tests
(and for `samplevis --model tests/vit_models.py:build`).

64 x 64 px images, 8 x 8 px patches: an 8 x 8 grid of 64 patch tokens after CLASS_TOKENS class
or register tokens, WIDTH channels. The patch embedding's channel 2k is GAIN times FILTERS[k]
applied to a patch (the same on R, G and B) and 2k + 1 its negative; two channels hold +-BIG.
Every token's channels then have mean 0 (nearly) and a spread BIG sets, so each layer
normalization divides by the same number, nearly: what follows sees the filters' responses
linearly. The attention's queries and keys are zero, so each head averages the values of all
tokens; head h's channel 0 is filter h's response, and the output projection adds head 0's to
channel POOLED alone (the class token's only view of the image; the other channels pass the
attention unchanged). `mlp_fc1` unit 2k is gelu(response to FILTERS[k] + 1) at each patch and
unit 2k + 1 gelu(-response + 1); `mlp_fc2` channel ENERGY adds those of filters 0 and 1, about
|response 0| + |response 1|, a unit that answers to a vertical grating of the patch's period at
any phase. No position embedding: every unit is blind to where its patch is.
"""

from __future__ import annotations

import functools

import numpy as np

SIZE, PATCH = 64, 8
GRID = SIZE // PATCH
CLASS_TOKENS = 1
BIG = 100.0
HEADS, HEAD_DIM = 2, 4


def _grating(theta_deg: float, phase: float) -> np.ndarray:
    """A unit-norm grating [PATCH, PATCH], one cycle per patch along `theta_deg` (0: the bars
    are vertical), its phase `phase` rad: exactly zero-mean."""
    r = np.arange(PATCH)
    y, x = np.meshgrid(r, r, indexing="ij")
    theta = np.deg2rad(theta_deg)
    kernel = np.cos(2 * np.pi * (x * np.cos(theta) + y * np.sin(theta)) / PATCH + phase)
    return (kernel / np.linalg.norm(kernel)).astype(np.float32)


def _edge() -> np.ndarray:
    """A unit-norm diagonal edge [PATCH, PATCH]: bright above the anti-diagonal, dark below
    (grey on it)."""
    r = np.arange(PATCH)
    y, x = np.meshgrid(r, r, indexing="ij")
    kernel = np.sign(PATCH - 1 - (x + y)).astype(np.float64)
    return (kernel / np.linalg.norm(kernel)).astype(np.float32)


# The planted filters, [PATCH, PATCH] each, applied to the grey patch: a quadrature pair of
# vertical gratings (ENERGY's), a horizontal grating and a diagonal edge.
FILTERS = (_grating(0.0, 0.0), _grating(0.0, np.pi / 2), _grating(90.0, 0.0), _edge())
POOLED = 2 * len(FILTERS)  # the channel the attention writes: filter 0's mean over all tokens
WIDTH = POOLED + 3  # +-filter per filter, POOLED, +-BIG
HIDDEN = 2 * len(FILTERS)  # gelu(+filter) and gelu(-filter) per filter
ENERGY = 0  # mlp_fc2's channel |FILTERS[0] . patch| + |FILTERS[1] . patch|
# filter k's response to a patch p is GAIN * (FILTERS[k] * grey(p)).sum(), grey(p) the mean of
# R, G and B: up to about 16 for a patch of the filter's pattern, where gelu is nearly linear
GAIN = 4.0


@functools.cache
def _prepend_tokens():
    import keras
    from keras import ops

    class PrependTokens(keras.layers.Layer):
        """`count` learned tokens ahead of the patch tokens [B, N, C]: [B, count + N, C]."""

        def __init__(self, count: int, **kwargs):
            super().__init__(**kwargs)
            self.count = count

        def build(self, input_shape):
            self.tokens = self.add_weight(
                shape=(1, self.count, input_shape[-1]), initializer="zeros", name="tokens"
            )

        def call(self, x):
            return ops.concatenate([ops.tile(self.tokens, (ops.shape(x)[0], 1, 1)), x], axis=1)

        def compute_output_shape(self, input_shape):
            n = None if input_shape[1] is None else input_shape[1] + self.count
            return (input_shape[0], n, input_shape[2])

    return PrependTokens


def keras_vit(class_tokens: int = CLASS_TOKENS):
    """The hand-built ViT as a keras.Model (see the module's docstring)."""
    import keras

    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(WIDTH, PATCH, strides=PATCH, name="patch_embed")(inputs)
    x = keras.layers.Reshape((GRID * GRID, WIDTH), name="patch_tokens")(x)
    if class_tokens:
        x = _prepend_tokens()(class_tokens, name="class_token")(x)
    embed = x
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="ln_1")(embed)
    x = keras.layers.MultiHeadAttention(HEADS, HEAD_DIM, name="attention")(x, x)
    x = keras.layers.Add(name="attention_add")([embed, x])
    tokens = x
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="ln_2")(x)
    x = keras.layers.Dense(HIDDEN, activation="gelu", name="mlp_fc1")(x)
    x = keras.layers.Dense(WIDTH, name="mlp_fc2")(x)
    outputs = keras.layers.Add(name="block_out")([tokens, x])
    model = keras.Model(inputs, outputs, name="toy_vit")
    _set_weights(model, class_tokens)
    return model


def _set_weights(model, class_tokens: int) -> None:
    kernel = np.zeros((PATCH, PATCH, 3, WIDTH), np.float32)
    bias = np.zeros(WIDTH, np.float32)
    for k, f in enumerate(FILTERS):
        kernel[:, :, :, 2 * k] = GAIN * f[:, :, None] / 3
        kernel[:, :, :, 2 * k + 1] = -GAIN * f[:, :, None] / 3
    bias[-2:] = BIG, -BIG
    model.get_layer("patch_embed").set_weights([kernel, bias])
    if class_tokens:
        token = np.zeros((1, class_tokens, WIDTH), np.float32)
        token[..., -2:] = BIG, -BIG
        model.get_layer("class_token").set_weights([token])
    # layer normalization divides every token by the spread of its +-BIG channels, nearly
    spread = BIG * np.sqrt(2.0 / WIDTH)
    attention = model.get_layer("attention")
    weights = [np.zeros_like(w) for w in attention.get_weights()]
    # the values: head h's channel 0 reads filter h's channel (the others stay 0); the output
    # projection writes head 0's channel 0 to POOLED alone
    value_kernel = np.zeros((WIDTH, HEADS, HEAD_DIM), np.float32)
    for h in range(HEADS):
        value_kernel[2 * h, h, 0] = spread
    output_kernel = np.zeros((HEADS, HEAD_DIM, WIDTH), np.float32)
    output_kernel[0, 0, POOLED] = 1.0
    names = [v.path for v in attention.weights]
    weights[names.index("attention/value/kernel")] = value_kernel
    weights[names.index("attention/attention_output/kernel")] = output_kernel
    attention.set_weights(weights)
    fc1 = np.zeros((WIDTH, HIDDEN), np.float32)
    for k in range(len(FILTERS)):
        fc1[2 * k, 2 * k] = spread  # gelu(+response)
        fc1[2 * k + 1, 2 * k + 1] = spread  # gelu(-response)
    # a bias of 1 starts every unit on gelu's rising side: below -0.75 gelu rises towards -inf,
    # and an optimizer starting there would push its patch to the filter's negative
    model.get_layer("mlp_fc1").set_weights([fc1, np.ones(HIDDEN, np.float32)])
    fc2 = np.zeros((HIDDEN, WIDTH), np.float32)
    fc2[0:4, ENERGY] = 1.0  # gelu(a) + gelu(-a) ~ |a|, for filters 0 and 1
    model.get_layer("mlp_fc2").set_weights([fc2, np.zeros(WIDTH, np.float32)])


def build(class_tokens: int = CLASS_TOKENS):
    """The hand-built ViT as a samplevis.Model (its patch size found from `patch_embed`)."""
    from samplevis import Model

    return Model(keras_vit(class_tokens), name="toy_vit")


def planted(filter_index: int, x: int, y: int, contrast: float = 0.45) -> np.ndarray:
    """A grey image [SIZE, SIZE, 3] in [0, 1] holding FILTERS[filter_index] at patch (x, y) and
    nothing elsewhere."""
    image = np.full((SIZE, SIZE, 3), 0.5, np.float32)
    f = FILTERS[filter_index]
    pattern = 0.5 + contrast * f / np.abs(f).max()
    image[y * PATCH : (y + 1) * PATCH, x * PATCH : (x + 1) * PATCH] = pattern[:, :, None]
    return image


def without_class_token():
    """The hand-built ViT with no class token: its 64 tokens are the patches (as SigLIP's)."""
    return build(class_tokens=0)
