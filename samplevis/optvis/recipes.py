"""What an optimization renders with, chosen by name: `param="image"`, Lucid's FFT image seen
through the standard transforms and optimized by Adam (with `alpha=True`, an RGBA image whose
transparency the objective rewards), or `param="maco"`, MACO's phase-only image seen through its
random crops and optimized by Nadam. `samplevis optimize` and `samplevis.atlas` build their
parts here, so that a choice renders the same in both."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samplevis.models import Model
    from samplevis.optvis.objectives import Objective
    from samplevis.optvis.param import ImageParam


import dataclasses
from typing import Any

from samplevis.runtime.checks import OptionError, check_bool

PARAMS = ("image", "maco")  # the parameterizations a name chooses


@dataclasses.dataclass(frozen=True)
class Recipe:
    """`render_vis`'s param_f, transforms, optimizer and objective_f for one choice."""

    param: ImageParam
    transforms: tuple
    optimizer: Any  # a keras.optimizers.Optimizer
    objective: Objective


def check_choice(param: object, alpha: object) -> tuple[str, bool]:
    """(param, alpha) checked: param one of PARAMS; alpha a bool, and only with "image"."""
    alpha = check_bool("alpha", alpha)
    if param not in PARAMS:
        raise OptionError(
            "param",
            "{param} must be one of {choices}; got {got!r}.",
            choices=", ".join(repr(p) for p in PARAMS),
            got=param,
        )
    if alpha and param == "maco":
        raise OptionError(
            "alpha",
            "{alpha=True} is Lucid's transparency on the classic image; MACO writes its own "
            "transparency map (samplevis.maco). Give one of {alpha=True} and {param='maco'}.",
        )
    return str(param), alpha


def image_param(param: str, size: int, batch: int = 1, alpha: bool = False) -> ImageParam:
    """The parameterization `param` names: `batch` images of `size` x `size` px."""
    from samplevis.optvis import param as param_lib

    if param == "maco":
        return param_lib.maco(size, batch=batch)
    return param_lib.image(size, batch=batch, alpha=alpha)


def recipe(
    model: Model,
    objective: Objective,
    size: int,
    batch: int = 1,
    param: str = "image",
    alpha: bool = False,
    *,
    transforms: bool = True,
    learning_rate: float | None = None,
) -> Recipe:
    """The parts that render `objective` as `param` and `alpha` choose (see `check_choice`).

    "image": `param.image(size, batch=batch, alpha=alpha)`, `transform.standard_transforms` (for
    a vision transformer's token layers `transform.vit_transforms` of its patch),
    Adam (learning rate default 0.05, Lucid's); with alpha, `collapse_alpha_random()` before the
    transforms and the objective times (1 - `penalize_alpha()`), Lucid's transparency notebook.
    "maco": `param.maco(size, batch=batch)`, `transform.maco_crops` of the network's input size
    (`size` for a network taking any), Nadam (default 1.0, MACO's).
    `transforms=False` leaves out the random transforms (not the compositing of RGBA images:
    the network takes RGB)."""
    from samplevis.optvis import objectives as objectives_lib
    from samplevis.optvis import transform as transform_lib
    from samplevis.optvis.maco import NADAM_RATE, maco_crop_size
    from samplevis.optvis.optimize import DEFAULT_LEARNING_RATE
    from samplevis.optvis.render_arguments import default_transforms_for

    param, alpha = check_choice(param, alpha)
    chosen = image_param(param, size, batch, alpha)
    if param == "maco":
        kept = (transform_lib.maco_crops(maco_crop_size(model, size)),)
        rate = NADAM_RATE if learning_rate is None else learning_rate
        return Recipe(chosen, kept if transforms else (), _optimizer("Nadam", rate), objective)
    composite = (transform_lib.collapse_alpha_random(),) if alpha else ()
    kept = default_transforms_for(model, objective, chosen) if transforms else ()
    rate = DEFAULT_LEARNING_RATE if learning_rate is None else learning_rate
    goal = objective * (1 - objectives_lib.penalize_alpha()) if alpha else objective
    return Recipe(chosen, (*composite, *kept), _optimizer("Adam", rate), goal)


def _optimizer(name: str, rate: float) -> Any:
    import keras

    return getattr(keras.optimizers, name)(learning_rate=rate)
