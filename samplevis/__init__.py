"""samplevis: what does a neuron respond to? Feature visualization by optimization and by sampling.

    import samplevis
    from samplevis import objectives, param, transform, zoo

    model = zoo.efficientnet_lite0()
    obj = objectives.channel("block5c_add", 12)
    images = samplevis.render_vis(model, obj, thresholds=(256,), seed=0)
    result = samplevis.render(model, obj, hmc_opts=dict(num_results=10), seed=0)
    samplevis.atlas(zoo.efficientnet_lite0, ["block3a_expand_activation"], out="atlas/")
    found = samplevis.dataset_examples(model, "block4c_add:12", images="photos/", out="examples/")

Submodules load on first use, so `import samplevis` stays light until TensorFlow is needed.
"""

import importlib
from typing import TYPE_CHECKING

# Imported now, not on first use: the function shares its module's name, and importing the module
# later would bind the module, not the function, to `samplevis.atlas`. The module imports
# TensorFlow only when it runs.
from samplevis.atlas import atlas as atlas

if TYPE_CHECKING:  # the modules below, for type checkers and editors
    from samplevis import examples as examples
    from samplevis import io as io
    from samplevis import models as models
    from samplevis import sampling as sampling
    from samplevis import zoo as zoo
    from samplevis.optvis import objectives as objectives
    from samplevis.optvis import param as param
    from samplevis.optvis import transform as transform
    from samplevis.runtime import signals as signals

__version__ = "0.1.0"

# The public face: each name and the module that holds it. The library's packages are
# optvis/, sampling/, examples/, atlas/, zoo/, models/, io/, pages/, runtime/ and cli/.
_SUBMODULES = {
    "objectives": "samplevis.optvis.objectives",
    "param": "samplevis.optvis.param",
    "transform": "samplevis.optvis.transform",
    "zoo": "samplevis.zoo",
    "io": "samplevis.io",
    "models": "samplevis.models",
    "sampling": "samplevis.sampling",
    "signals": "samplevis.runtime.signals",
    "examples": "samplevis.examples",
}
_ATTRIBUTES = {
    "Model": "samplevis.models",
    "render_vis": "samplevis.optvis.optimize",
    "dataset_examples": "samplevis.examples",
    "Renderer": "samplevis.optvis.renderer",
    "NonFiniteObjectiveError": "samplevis.optvis.renderer",
    "MemoryLimitError": "samplevis.runtime.memory",
    "render": "samplevis.sampling.sampler",
    "maco": "samplevis.optvis.maco",
    "SampleResult": "samplevis.sampling.report.result",
    # functions of a SampleResult (what the run drew and measured, `sampling.report.run.Run`),
    # beside its own methods
    "plot_trace": "samplevis.sampling.report.plots",
    "plot_grid": "samplevis.sampling.report.plots",
    "to_arviz": "samplevis.sampling.report.arviz_export",
    "save_tensorboard": "samplevis.sampling.report.tensorboard_log",
}
__all__ = sorted(set(_SUBMODULES) | set(_ATTRIBUTES) | {"atlas"})


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(_SUBMODULES[name])
    if name in _ATTRIBUTES:
        return getattr(importlib.import_module(_ATTRIBUTES[name]), name)
    raise AttributeError(f"module 'samplevis' has no attribute {name!r}")


def __dir__():
    return __all__
