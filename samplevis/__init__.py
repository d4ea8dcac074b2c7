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

# Imported now, not on first use: the function shares its module's name, and importing the module
# later would bind the module, not the function, to `samplevis.atlas`. The module imports
# TensorFlow only when it runs.
from samplevis.atlas import atlas as atlas

__version__ = "0.1.0"

_SUBMODULES = {
    "objectives",
    "param",
    "transform",
    "zoo",
    "io",
    "models",
    "sampling",
    "signals",
    "examples",
}
_ATTRIBUTES = {
    "Model": "samplevis.models",
    "render_vis": "samplevis.optimize",
    "dataset_examples": "samplevis.examples",
    "Renderer": "samplevis.optimize",
    "NonFiniteObjectiveError": "samplevis.optimize",
    "MemoryLimitError": "samplevis.memory",
    "render": "samplevis.sampling.api",
    "maco": "samplevis.maco_render",
    "SampleResult": "samplevis.sampling.report.result",
    # functions of a SampleResult, which stays a plain record
    "plot_trace": "samplevis.sampling.report.plots",
    "plot_grid": "samplevis.sampling.report.plots",
    "to_arviz": "samplevis.sampling.report.arviz_export",
    "save_tensorboard": "samplevis.sampling.report.tensorboard_log",
}
__all__ = sorted(_SUBMODULES | set(_ATTRIBUTES) | {"atlas"})


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"samplevis.{name}")
    if name in _ATTRIBUTES:
        return getattr(importlib.import_module(_ATTRIBUTES[name]), name)
    raise AttributeError(f"module 'samplevis' has no attribute {name!r}")


def __dir__():
    return __all__
