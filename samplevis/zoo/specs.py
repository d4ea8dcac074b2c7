"""`zoo.load(spec)`: a model named by a string, as a command line or a config file names one.

zoo.load("efficientnet_lite0")        # the built-in model (offline)
zoo.load("vgg16")                     # a Keras application (downloads its weights)
zoo.load("mynet.keras")               # a model saved with model.save()
zoo.load("mynet:build")               # build() of module mynet, found here or installed
zoo.load("path/to/mynet.py:build")    # build() of that file
zoo.load("keras_hub:dinov2_base")     # a KerasHub image backbone by preset (downloads it)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samplevis.models import Model


import contextlib
import importlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

from samplevis.runtime.checks import OptionError, OptionMessage

DEFAULT = "efficientnet_lite0"  # the built-in model, whose weights need no network
KERAS_HUB = ("keras_hub:", "keras-hub:")  # a KerasHub preset follows


class ModelSpecError(OptionError):
    """A spec that names no model that can be loaded; the message says what would. `option` is
    'spec'."""


class ModelFileNotFoundError(OptionMessage, FileNotFoundError):
    """A spec naming a model or Python file that does not exist. `option` is 'spec'."""


def load(spec: str, pretrained: bool = True) -> Model:
    """The `samplevis.Model` that `spec` names.

    Args:
        spec: a zoo name, a Keras application name, a saved `.keras` or `.h5` file,
            `keras_hub:PRESET` (a KerasHub image backbone, `zoo.keras_hub`), or
            `module:function` / `path/to/file.py:function` (a function of no arguments returning
            a samplevis.Model or keras.Model; modules are also looked up in the current folder,
            and a file's own imports beside it).
        pretrained: False skips downloading a Keras application's or a KerasHub preset's
            weights (enough to list layers).

    Returns:
        The model.

    Raises:
        ModelSpecError: (a ValueError) a spec that names no model, saying what to give instead.
        ModelFileNotFoundError: (a FileNotFoundError) a file the spec names that does not exist.
        ConnectionError: a Keras application's weights cannot be downloaded.

    Examples:
        ```python
        model = zoo.load("efficientnet_lite0")
        model = zoo.load("vgg16", pretrained=False)
        model = zoo.load("mynet.py:build")
        ```
    """
    from samplevis import zoo
    from samplevis.models import as_model

    if spec == DEFAULT:
        return zoo.efficientnet_lite0()
    if spec.endswith((".keras", ".h5")):
        import keras

        if not Path(spec).is_file():
            raise ModelFileNotFoundError(
                "spec",
                "no model file {got!r} (relative paths start in {cwd}).",
                got=spec,
                cwd=os.getcwd(),
            )
        try:
            network = keras.models.load_model(spec, compile=False)
        except Exception as err:  # Keras raises many types for a file it cannot parse
            raise ModelSpecError(
                "spec",
                "cannot read model file {got!r} as a Keras model "
                "({why}). Save it with model.save().",
                got=spec,
                why=_first_line(err),
            ) from None
        return as_model(network)
    if spec.startswith(KERAS_HUB):
        return _keras_hub_preset(spec, pretrained)
    if ":" in spec:
        module_name, _, attr = spec.rpartition(":")
        if not module_name or not attr:
            raise ModelSpecError("spec", "{spec} {got!r} is not module:function.", got=spec)
        with _importable_from(module_name):
            return _model_from_factory(spec, _module(spec, module_name), attr)
    if spec.endswith(".py"):
        raise ModelSpecError(
            "spec",
            "{spec} {got!r} is a Python file; add the function that returns the model: {spec=fix}.",
            got=spec,
            fix=f"{spec}:FUNCTION",
        )
    from samplevis.zoo.applications import APPLICATIONS

    if spec in APPLICATIONS:
        return zoo.keras_application(spec, weights="imagenet" if pretrained else None)
    raise ModelSpecError(
        "spec",
        "unknown model {got!r}. Use {default}, one of {applications}, a .keras or .h5 "
        "file, module:function or file.py:function.",
        got=spec,
        default=DEFAULT,
        applications=", ".join(sorted(APPLICATIONS)),
    )


def _keras_hub_preset(spec: str, pretrained: bool) -> Model:
    """`zoo.keras_hub` of the preset after the spec's "keras_hub:"."""
    from samplevis import zoo

    preset = spec.partition(":")[2]
    if not preset:
        raise ModelSpecError(
            "spec",
            "{spec} {got!r} names no preset: {spec=fix}.",
            got=spec,
            fix=f"{spec}vit_base_patch16_224_imagenet",
        )
    try:
        return zoo.keras_hub(preset, load_weights=pretrained)
    except ImportError as err:
        raise ModelSpecError("spec", "cannot load {got!r}: {why}", got=spec, why=str(err)) from None
    except Exception as err:  # KerasHub raises many types for a preset it cannot find or fetch
        raise ModelSpecError(
            "spec",
            "cannot load KerasHub preset {preset!r} ({why}). A preset is a KerasHub name (e.g. "
            "vit_base_patch16_224_imagenet, which needs the network once), a kaggle:// or hf:// "
            "handle, or a local preset folder.",
            preset=preset,
            why=_first_line(err),
        ) from None


def _first_line(err: BaseException) -> str:
    """'Type: first line of the message', for an error raised in the user's code."""
    return f"{type(err).__name__}: {str(err).splitlines()[0]}" if str(err) else type(err).__name__


@contextlib.contextmanager
def _importable_from(module_name: str) -> Iterator[None]:
    """Within the block, modules are also found in the current folder (as `python -m` finds
    them) and, for a .py path, beside that file, so that its own imports work too."""
    folders = [
        str(Path(module_name).resolve().parent) if module_name.endswith(".py") else os.getcwd()
    ]
    added = [f for f in folders if f not in sys.path]
    sys.path.extend(added)  # after the installed packages, so a local file never shadows one
    try:
        yield
    finally:
        for folder in added:
            sys.path.remove(folder)


def _module(spec: str, module_name: str):
    """The module of `spec`: a dotted module name or the path of a .py file."""
    try:
        if not module_name.endswith(".py"):
            return importlib.import_module(module_name)
        path = Path(module_name)
        if not path.is_file():
            raise ModelFileNotFoundError(
                "spec", "{spec} {got!r}: no Python file {file!r}.", got=spec, file=module_name
            )
        loader_spec = importlib.util.spec_from_file_location(path.stem, path)
        if loader_spec is None or loader_spec.loader is None:
            raise ValueError(f"{str(path)!r} cannot be loaded as a Python module.")
        module = importlib.util.module_from_spec(loader_spec)
        loader_spec.loader.exec_module(module)
        return module
    except ModuleNotFoundError as err:
        if err.name != module_name.split(".")[0]:
            raise ModelSpecError(
                "spec",
                "cannot load model {got!r}: importing it failed: {why}",
                got=spec,
                why=str(err),
            ) from None
        raise ModelSpecError(
            "spec",
            "cannot load model {got!r}: no module {module!r} in the current folder "
            "({cwd}) or among the installed packages. Work from the folder that holds {top}.py, "
            "or give the file's path ({spec=by_path}).",
            got=spec,
            module=module_name,
            cwd=os.getcwd(),
            top=module_name.split(".")[0],
            by_path=f"path/to/{module_name.split('.')[-1]}.py:{spec.rpartition(':')[2]}",
        ) from None
    except ModelFileNotFoundError:
        raise
    except Exception as err:  # the user's module may fail in any way as it runs
        raise ModelSpecError(
            "spec",
            "cannot load model {got!r}: importing it failed: {why}",
            got=spec,
            why=_first_line(err),
        ) from None


def _model_from_factory(spec: str, module, attr: str):
    """The model returned by `module`.`attr`(), as a samplevis.Model (named module.function when
    it is a keras.Model, whose own name is often Keras's default, "functional")."""
    from samplevis.models import Model, closest_names

    factory = getattr(module, attr, None)
    if factory is None:
        where = getattr(module, "__file__", None) or "built in"
        functions = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")]
        close = closest_names(attr, functions)
        hint = " Closest names: {close}." if close else ""
        local = Path(f"{module.__name__.split('.')[0]}.py")
        by_name = not spec.rpartition(":")[0].endswith(".py")
        if by_name and local.is_file() and where != str(local.resolve()):
            hint += (
                " The module of that name comes from {where}, not from ./{local}; give the "
                "file's path: {spec=by_path}."
            )
            where = "installed"
        raise ModelSpecError(
            "spec",
            "cannot load model {got!r}: {module!r} ({where}) has no {attr!r}." + hint,
            got=spec,
            module=module.__name__,
            where=where,
            attr=attr,
            close=", ".join(close),
            local=str(local),
            by_path=f"./{local}:{attr}",
        )
    if not callable(factory):
        raise ModelSpecError(
            "spec",
            "{got!r} is a {kind}, not a function returning a keras.Model or samplevis.Model.",
            got=spec,
            kind=type(factory).__name__,
        )
    try:
        made = factory()
    except Exception as err:  # the user's function may fail in any way (e.g. offline)
        frames = traceback.extract_tb(err.__traceback__)
        if isinstance(err, TypeError) and len(frames) == 1:  # the call itself: it wants arguments
            raise ModelSpecError(
                "spec",
                "calling {got!r} failed ({why}); module:function needs "
                "a function that takes no arguments.",
                got=spec,
                why=str(err),
            ) from None
        frame = frames[-1]
        raise ModelSpecError(
            "spec",
            "calling {got!r} failed: {why} ({file}, line {line})",
            got=spec,
            why=_first_line(err),
            file=frame.filename,
            line=frame.lineno,
        ) from None
    if isinstance(made, Model):
        return made
    try:
        # a TensorFlow name scope: no ':' or '/' of the spec's path
        return Model(made, name=f"{module.__name__}.{attr}")
    except TypeError:
        raise ModelSpecError(
            "spec",
            "{got!r} returned a value of type {kind}; it must return a "
            "keras.Model or samplevis.Model.",
            got=spec,
            kind=type(made).__name__,
        ) from None
