"""Token layers: a vision transformer's [B, N, C] activations, whose last tokens are the image's
patches on a grid, row by row, after a few class or register tokens.

On the grid a token layer has positions as a convolutional layer has: `on_grid` gives its patch
tokens as [B, rows, cols, C], and a patch's position sees that patch's own pixels (`TokenGrid.
field`; attention lets it depend on the whole image, but the patch is what its token was made
from and what a crop should show). The grid comes from the model's patch embedding, a
convolution whose kernel is its stride (`patch_size`), or from the patch size the user gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from samplevis.models.geometry import ReceptiveField

# Tokens a grid may have ahead of its patches: a class token and up to 16 registers, the most
# Darcet et al. (2024, "Vision Transformers Need Registers") tried.
MAX_PREFIX = 17

# What a name can read of a token layer LAYER besides its patch grid: LAYER/tokens, all N tokens
# [B, N, C] as the network has them; LAYER/class_token, the first token [B, C]; and of a
# MultiHeadAttention layer LAYER/heads, each head's output before the output projection
# [B, rows, cols, heads, dim].
TOKENS, CLASS_TOKEN, HEADS = "tokens", "class_token", "heads"
VIEWS = (TOKENS, CLASS_TOKEN, HEADS)


@dataclass(frozen=True)
class TokenGrid:
    """`rows` x `cols` patch tokens, row by row, after `prefix` class or register tokens.

    Attributes:
        rows: patch rows.
        cols: patch columns.
        prefix: class or register tokens before the patches.
        patch: each patch's (height, width) in px of the network's input.
    """

    rows: int
    cols: int
    prefix: int
    patch: tuple[int, int]

    @property
    def tokens(self) -> int:
        return self.prefix + self.rows * self.cols

    @property
    def field(self) -> ReceptiveField:
        """The pixels each position's patch covers: its own box, side by side."""
        return ReceptiveField((0, 0), self.patch, self.patch)

    def describe(self) -> str:
        """'8x8 patches + 1 token' ('+ 5 tokens' for a class token and 4 registers)."""
        ahead = f" + {self.prefix} token{'s' if self.prefix > 1 else ''}" if self.prefix else ""
        return f"{self.rows}x{self.cols} patches{ahead}"


def as_patch_size(patch_size: object) -> tuple[int, int] | None:
    """`patch_size` (None, an int or a pair of ints, px) as (height, width), or a ValueError."""
    from samplevis.runtime.checks import is_int

    if patch_size is None:
        return None
    pair = (patch_size, patch_size) if is_int(patch_size) else patch_size
    if (
        not isinstance(pair, (tuple, list))
        or len(pair) != 2
        or not all(is_int(p) and p >= 1 for p in pair)
    ):
        raise ValueError(
            f"patch_size is the side of a patch in px of the network's input, an int >= 1 "
            f"or (height, width), e.g. 16; got {patch_size!r}."
        )
    return int(pair[0]), int(pair[1])


def find_patch_size(layers: Sequence[Any]) -> tuple[int, int] | None:
    """(height, width) px of the patch embedding among `layers` (and the layers inside them): the
    first 2-D convolution of an image (1 or 3 channels in) whose kernel is its stride, more
    than 1 px, without padding; None when there is none."""
    import keras

    from samplevis.models import sublayers

    every = [*layers, *(layer for layer, _ in sublayers.descendants(layers).values())]
    for layer in every:
        if type(layer) is not keras.layers.Conv2D or not layer.built:
            continue
        kernel, strides = tuple(layer.kernel_size), tuple(layer.strides)
        reads_image = layer.kernel.shape[2] in (1, 3)
        if kernel == strides and min(kernel) > 1 and layer.padding == "valid" and reads_image:
            return int(kernel[0]), int(kernel[1])
    return None


def grid_of(
    tokens: int | None, input_size: tuple, patch: tuple[int, int] | None
) -> TokenGrid | None:
    """The grid of a layer of `tokens` tokens when the network's input is `input_size` (H, W)
    px and its patches `patch` px: None unless the tokens are the patches after at most
    MAX_PREFIX others."""
    if patch is None or tokens is None or None in input_size:
        return None
    rows, cols = input_size[0] // patch[0], input_size[1] // patch[1]
    prefix = tokens - rows * cols
    if rows < 1 or cols < 1 or not 0 <= prefix <= MAX_PREFIX:
        return None
    return TokenGrid(rows, cols, prefix, patch)


def on_grid(tokens: Any, grid: TokenGrid) -> Any:
    """Patch tokens [B, rows, cols, ...] of tokens [B, N, ...] (the first `grid.prefix` left
    out)."""
    import tensorflow as tf

    patches = tokens[:, grid.prefix :]
    return tf.reshape(patches, [-1, grid.rows, grid.cols, *patches.shape[2:]])


def seen_as(value: Any, view: str | None, input_size: tuple, patch: tuple[int, int] | None) -> Any:
    """What a name reads of a layer's output `value` [B, ...] through `view` when the network's
    input is `input_size` (H, W) px: all tokens as they are (TOKENS), the first token (CLASS_TOKEN),
    the patch tokens on their grid for a token layer [B, N, C] or heads [B, N, heads, dim] whose
    tokens are the patches (`grid_of`), and any other output as it is."""
    if view == TOKENS:
        return value
    if view == CLASS_TOKEN:
        return value[:, 0]
    shape = tuple(value.shape)
    if len(shape) != 3 and view != HEADS:
        return value
    grid = grid_of(shape[1], input_size, patch)
    return value if grid is None else on_grid(value, grid)
