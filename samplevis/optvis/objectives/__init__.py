"""Objectives: what an image should make the network do, as composable values.

An objective is called with a feature lookup `T` (`T(layer_name)` is that layer's activations,
`T("input")` the parameterized image in [0, 1] before transforms) and returns one value per image,
shape [B]. `render_vis` maximizes their sum; sampling uses each chain's value. Objectives combine
with `+ - * /`, negation, numbers and `sum(...)`; every operation returns a new objective.

Penalties (`L1`, `L2`, `total_variation`, `blur_input_each_step`) are positive, as in Lucid: subtract
them, e.g. `channel("block5c_add", 3) - 1e-3 * L1()`. For RGBA images (`param.image(w, alpha=True)`),
`T("input")` holds the alpha as a fourth channel, and `penalize_alpha` and `blur_alpha_each_step`
read it.

Modules, lowest first:
  algebra    the `Objective` value and its operators, `constant`, `maximum`, `as_objective`
             (numbers, "layer:channel" strings, functions of T), `with_layers`,
             `image_objective`; and `channel`, the objective a "layer:channel" string names
  text       `from_text`: an objective written as one string, "max(logits:945, 0.6 *
             logits:498)", what the command line's --objective takes
  units      `neuron`, `deepdream`, `direction`, `direction_neuron`, `class_logit`; of vision
             transformers' token layers, `class_token` and `head`
  batch      objectives across a batch's images: `diversity`, `alignment`, `channel_interpolate`
  penalties  `L1`, `L2`, `input_diff`, `total_variation`, `blur_input_each_step`,
             `penalize_boundary_complexity`
  alpha      of RGBA images' alpha: `penalize_alpha`, `blur_alpha_each_step`
"""

from samplevis.optvis.objectives.algebra import (
    ANY_LAYER,
    FeatureLookup,
    Objective,
    Params,
    as_objective,
    channel,
    constant,
    image_objective,
    maximum,
    with_layers,
)
from samplevis.optvis.objectives.alpha import blur_alpha_each_step, penalize_alpha
from samplevis.optvis.objectives.batch import alignment, channel_interpolate, diversity
from samplevis.optvis.objectives.penalties import (
    L1,
    L2,
    blur_input_each_step,
    input_diff,
    penalize_boundary_complexity,
    total_variation,
)
from samplevis.optvis.objectives.text import from_text
from samplevis.optvis.objectives.units import (
    class_logit,
    class_token,
    deepdream,
    direction,
    direction_neuron,
    head,
    neuron,
)

__all__ = [
    "ANY_LAYER",
    "L1",
    "L2",
    "FeatureLookup",
    "Objective",
    "Params",
    "alignment",
    "as_objective",
    "blur_alpha_each_step",
    "blur_input_each_step",
    "channel",
    "channel_interpolate",
    "class_logit",
    "class_token",
    "constant",
    "deepdream",
    "diversity",
    "direction",
    "direction_neuron",
    "head",
    "from_text",
    "image_objective",
    "input_diff",
    "maximum",
    "neuron",
    "penalize_alpha",
    "penalize_boundary_complexity",
    "total_variation",
    "with_layers",
]
