"""The examples in the public docstrings (`>>>`, shown on the documentation site) run and print
what they say, in the namespace of the public module that offers them (and NumPy's `np`)."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

from samplevis import io, models, zoo
from samplevis.optvis import objectives, param, transform

# each module whose docstrings hold examples, and the public module whose names they use
MODULES = {
    "samplevis.optvis.objectives.algebra": objectives,
    "samplevis.optvis.objectives.units": objectives,
    "samplevis.optvis.objectives.batch": objectives,
    "samplevis.optvis.objectives.penalties": objectives,
    "samplevis.optvis.objectives.alpha": objectives,
    "samplevis.optvis.objectives.text": objectives,
    "samplevis.optvis.param.cppn": param,
    "samplevis.optvis.param.maco": param,
    "samplevis.optvis.param.images": param,
    "samplevis.optvis.param.color": param,
    "samplevis.optvis.param.fourier": param,
    "samplevis.optvis.transform.contract": transform,
    "samplevis.optvis.transform.lucid": transform,
    "samplevis.optvis.transform.chain": transform,
    "samplevis.optvis.transform.blur": transform,
    "samplevis.optvis.transform.maco": transform,
    "samplevis.optvis.transform.vit": transform,
    "samplevis.zoo.labels": zoo,
    "samplevis.models.catalogue": models,
    "samplevis.io": io,
    "samplevis.runtime.files": io,
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_the_docstrings_examples_run(name):
    module = importlib.import_module(name)
    names = {"np": np} | {n: getattr(MODULES[name], n) for n in MODULES[name].__all__}
    failed, attempted = doctest.testmod(module, extraglobs=names, optionflags=doctest.ELLIPSIS)
    assert attempted > 0, f"{name} has no example: take it out of MODULES"
    assert failed == 0, f"{failed} of the {attempted} examples of {name} fail (printed above)"
