"""No argument is accepted and then silently dropped.

Every public constructor, method and function of kerasish's public namespaces is read with ``ast``: a parameter
whose name the body never loads is ignored (``super().__init__(**kwargs)`` loads ``kwargs``). So is one that the
body only copies into ``self.<attr>`` when nothing reads that attribute: no ``self.<attr>`` in the methods of
the class, its bases and subclasses, no ``<obj>.<attr>`` and no string ``"<attr>"`` (getattr) anywhere in
kerasish, ``get_config`` aside (recording an argument is not using it). The second check is conservative: any
read of the name anywhere counts. An argument must either work as in Keras 2.3.1 or raise or warn; the few that
Keras itself ignores, and the parameters a protocol passes to every implementation, are listed below with the
reason.
"""
import ast
import functools
import inspect
import pathlib
import textwrap
import types

import kerasish
from kerasish import (activations, backend, callbacks, constraints, initializers, layers, losses, metrics,
                      mixed_precision, models, optimizers, regularizers, saving)
from kerasish.callbacks import Callback
from kerasish.preprocessing import image
from kerasish.preprocessing import sequence as preprocessing_sequence
from kerasish.preprocessing import text
from kerasish.utils import (conv_utils, generic_utils, hdf5, io_utils, layer_utils, multi_gpu_utils, np_utils, plotting,
                            progbar, sequence, summary, vis_utils)
from kerasish.wrappers import scikit_learn

PUBLIC_MODULES = [activations, backend, callbacks, constraints, initializers, layers, losses, metrics,
                  mixed_precision, models, optimizers, regularizers, saving, image, io_utils, np_utils, plotting,
                  progbar, sequence, summary, text, preprocessing_sequence, conv_utils, generic_utils, hdf5,
                  layer_utils, multi_gpu_utils, vis_utils, scikit_learn]

TF_NAME = "TensorFlow's name for the op or variable, which labels its graph only; torch tensors carry no names"

# "module.qualname: parameter" -> why it is deliberately unused.
ALLOWED = {
    "kerasish.layers.base.Layer.build: input_shape":
        "the base build of a layer without weights; the protocol passes the shape to every layer",
    "kerasish.layers.base.Layer.call: x":
        "abstract: raises NotImplementedError, subclasses implement call(x)",
    "kerasish.layers.base.Layer.compute_mask: inputs":
        "Keras 2.3.1's base compute_mask passes the mask on or refuses it; layers that derive a mask from their "
        "inputs (Embedding, Masking) override it",
    "kerasish.losses.Loss.call: y_true": "abstract: raises NotImplementedError, subclasses implement call",
    "kerasish.losses.Loss.call: y_pred": "abstract: raises NotImplementedError, subclasses implement call",
    "kerasish.metrics.Metric.batch_state: y_true": "abstract: raises NotImplementedError, subclasses implement it",
    "kerasish.metrics.Metric.batch_state: y_pred": "abstract: raises NotImplementedError, subclasses implement it",
    "kerasish.metrics.Metric.batch_state: sample_weight":
        "abstract: raises NotImplementedError, subclasses implement it",
    "kerasish.metrics.Metric.result_from: state": "abstract: raises NotImplementedError, subclasses implement it",
    "kerasish.metrics.resolve: weighted":
        "Keras 2.3.1 training_utils.get_metric_name takes `weighted` and ignores it (no 'weighted_' prefix)",
    "kerasish.preprocessing.image.utils.random_rotation: row_axis":
        "keras-preprocessing 1.1.2 passes only channel_axis on to apply_affine_transform",
    "kerasish.preprocessing.image.utils.random_rotation: col_axis":
        "keras-preprocessing 1.1.2 passes only channel_axis on to apply_affine_transform",
    "kerasish.preprocessing.image.utils.random_shear: row_axis":
        "keras-preprocessing 1.1.2 passes only channel_axis on to apply_affine_transform",
    "kerasish.preprocessing.image.utils.random_shear: col_axis":
        "keras-preprocessing 1.1.2 passes only channel_axis on to apply_affine_transform",
    "kerasish.preprocessing.image.utils.random_zoom: row_axis":
        "keras-preprocessing 1.1.2 passes only channel_axis on to apply_affine_transform",
    "kerasish.preprocessing.image.utils.random_zoom: col_axis":
        "keras-preprocessing 1.1.2 passes only channel_axis on to apply_affine_transform",
    "kerasish.preprocessing.image.utils.apply_channel_shift: channel_axis":
        "the same intensity is added to every channel and clipped to the image's overall min and max, so the "
        "axis does not change the result (keras-preprocessing 1.1.2 moves it to the front and back)",
    "kerasish.backend.config.ValueHandle.assign: value":
        "abstract: raises NotImplementedError, optimizers.HyperparameterValue implements assign",
    "kerasish.layers.base.Layer.add_loss: inputs":
        "Keras 2.3.1 only files the loss under get_losses_for(inputs), for layers shared between models; kerasish "
        "adds a layer's call losses to the step that ran the call, which is what that filing is for",
    "kerasish.layers.embeddings.Embedding.compute_mask: mask":
        "Keras 2.3.1 Embedding.compute_mask computes the mask from the inputs (inputs != 0) and drops the one given",
    "kerasish.layers.recurrent.RNN.compute_mask: inputs":
        "Keras 2.3.1 RNN.compute_mask derives the output mask from the input mask alone",
    "kerasish.layers.wrappers.Bidirectional.compute_mask: inputs":
        "Keras 2.3.1 Bidirectional.compute_mask derives the output masks from the input mask alone",
    "kerasish.layers.merge.Dot.compute_mask: inputs": "Keras 2.3.1 Dot.compute_mask returns None whatever it gets",
    "kerasish.layers.merge.Dot.compute_mask: mask": "Keras 2.3.1 Dot.compute_mask returns None whatever it gets",
    "kerasish.layers.core.Masking.compute_mask: mask":
        "Keras 2.3.1 Masking.compute_mask makes the mask from the inputs alone, replacing any mask coming in",
    "kerasish.layers.pooling.GlobalAveragePooling1D.compute_mask: inputs":
        "Keras 2.3.1 GlobalAveragePooling1D.compute_mask returns None whatever it gets (the mask is consumed)",
    "kerasish.layers.pooling.GlobalAveragePooling1D.compute_mask: mask":
        "Keras 2.3.1 GlobalAveragePooling1D.compute_mask returns None whatever it gets (the mask is consumed)",
    "kerasish.models.model.Model.call: inputs": "abstract: raises NotImplementedError, subclasses implement call",
    "kerasish.models.model.Model.call: training": "abstract: raises NotImplementedError, subclasses implement call",
    "kerasish.models.model.Model.call: mask": "abstract: raises NotImplementedError, subclasses implement call",
    "kerasish.backend.compat.control_dependencies: control_inputs":
        "eager torch ops have already run, in program order, when the block starts",
    "kerasish.backend.compat.manual_variable_initialization: value":
        "a kerasish variable holds its initial value as soon as it is created; there is no initializer op to defer",
    "kerasish.backend.compat.set_session: session":
        "raises: there is no TensorFlow session to set (the message names the torch settings to use)",
    "kerasish.backend.nn.ctc_decode: beam_width":
        "beam search only (greedy=False), which raises NotImplementedError",
    "kerasish.backend.nn.ctc_decode: top_paths":
        "beam search only (greedy=False), which raises NotImplementedError",
    "kerasish.backend.nn.ctc_decode: merge_repeated":
        "beam search only (greedy=False), which raises NotImplementedError",
    "kerasish.layers.legacy.Recurrent.compute_mask: inputs":
        "Keras 2.3.1's legacy Recurrent.compute_mask derives the output mask from the input mask alone",
    "kerasish.layers.legacy.Recurrent.get_constants: inputs":
        "Keras 2.3.1's default: no constants; Keras 1 subclasses override it (dropout masks)",
    "kerasish.layers.legacy.Recurrent.get_constants: training":
        "Keras 2.3.1's default: no constants; Keras 1 subclasses override it (dropout masks)",
    "kerasish.layers.legacy.Recurrent.preprocess_input: training":
        "Keras 2.3.1's default passes the inputs on; Keras 1 subclasses override it",
    "kerasish.layers.legacy.Recurrent.step: inputs": "abstract: raises NotImplementedError, subclasses implement step",
    "kerasish.layers.legacy.Recurrent.step: states": "abstract: raises NotImplementedError, subclasses implement step",
    "kerasish.backend.control.foldl: name": TF_NAME,
    "kerasish.backend.control.foldr: name": TF_NAME,
    "kerasish.backend.control.map_fn: name": TF_NAME,
    "kerasish.backend.random_ops.random_normal_variable: name": TF_NAME,
    "kerasish.backend.random_ops.random_uniform_variable: name": TF_NAME,
    "kerasish.backend.variables.constant: name": TF_NAME,
    "kerasish.backend.variables.eye: name": TF_NAME,
    "kerasish.backend.variables.identity: name": TF_NAME,
    "kerasish.backend.variables.ones: name": TF_NAME,
    "kerasish.backend.variables.ones_like: name": TF_NAME,
    "kerasish.backend.variables.size: name": TF_NAME,
    "kerasish.backend.variables.variable: name": TF_NAME,
    "kerasish.backend.variables.zeros: name": TF_NAME,
    "kerasish.backend.variables.zeros_like: name": TF_NAME,
    "kerasish.utils.generic_utils.func_load: defaults": "func_load refuses bytecode before making any function",
    "kerasish.utils.generic_utils.func_load: closure": "func_load refuses bytecode before making any function",
    "kerasish.utils.generic_utils.func_load: globs": "func_load refuses bytecode before making any function",
    "kerasish.wrappers.scikit_learn.BaseWrapper.get_params: params":
        "scikit-learn passes deep=; a build_fn has no nested estimators (Keras 2.3.1 ignores it too)",
}
# Keras's callback protocol passes these to every hook; a callback reads the ones it needs.
CALLBACK_HOOK_PARAMETERS = {"batch", "epoch", "logs"}

PACKAGE = pathlib.Path(kerasish.__file__).parent


def public_callables() -> dict:
    """``{"module.qualname": (function, class that defines it or None)}`` for every public function, and every
    public method (``__init__`` included, property setters too) of every public class, defined in kerasish and
    reachable from ``PUBLIC_MODULES``; inherited methods under the class that defines them."""
    found = {}

    def add(function, owner=None):
        function = inspect.unwrap(function)
        if isinstance(function, types.FunctionType) and function.__module__.startswith("kerasish"):
            found[f"{function.__module__}.{function.__qualname__}"] = (function, owner)

    for module in PUBLIC_MODULES:
        for name in dir(module):
            obj = getattr(module, name)
            if name.startswith("_") or not getattr(obj, "__module__", "").startswith("kerasish"):
                continue
            if isinstance(obj, types.FunctionType):
                add(obj)
            elif isinstance(obj, type):
                for klass in obj.__mro__:
                    if not klass.__module__.startswith("kerasish"):
                        continue
                    for attr, value in vars(klass).items():
                        if attr.startswith("_") and attr != "__init__":
                            continue
                        if isinstance(value, (staticmethod, classmethod)):
                            value = value.__func__
                        if isinstance(value, property):
                            value = value.fset
                        if value is not None:
                            add(value, klass)
    return found


@functools.lru_cache(maxsize=None)
def function_node(function) -> ast.FunctionDef:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    return next(node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))


def parameter_names(node: ast.FunctionDef) -> list[str]:
    arguments = node.args
    names = [a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs]
    names += [a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None]
    return [name for name in names if name not in ("self", "cls")]


def loads(node: ast.AST, name: str) -> list[ast.Name]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]


def unread_parameters(function, owner=None) -> list[str]:
    """Parameters whose name is never loaded in the body (``super().__init__(**kwargs)`` loads ``kwargs``)."""
    node = function_node(function)
    body = ast.Module(body=node.body, type_ignores=[])
    if loads(body, "locals"):
        return []
    return [name for name in parameter_names(node) if not loads(body, name)]


def outside_get_config(tree: ast.AST):
    """The nodes of ``tree``, without the bodies of ``get_config`` methods (recording an argument is not
    using it)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef) and node.name == "get_config":
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def is_self(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


@functools.lru_cache(maxsize=None)
def attributes_read_in_package() -> frozenset:
    """Every ``obj.attr`` loaded on anything but ``self``, and every string constant (``getattr(obj, "attr")``),
    in kerasish's source."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        for node in outside_get_config(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and not is_self(node.value):
                names.add(node.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.add(node.value)
    return frozenset(names)


def family(klass: type) -> list[type]:
    """``klass``, its kerasish bases and all its subclasses."""
    members, stack = [c for c in klass.__mro__ if c.__module__.startswith("kerasish")], [klass]
    while stack:
        for subclass in stack.pop().__subclasses__():
            members.append(subclass)
            stack.append(subclass)
    return members


@functools.lru_cache(maxsize=None)
def attributes_read_on_self_in(klass: type) -> frozenset:
    """Every ``self.attr`` loaded in the methods ``klass`` defines."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
    except (OSError, TypeError):
        return frozenset()
    return frozenset(node.attr for node in outside_get_config(tree)
                     if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and is_self(node.value))


def attributes_read_on_self(klass: type) -> set:
    """Every ``self.attr`` loaded in the methods of ``klass``'s family."""
    return set().union(*(attributes_read_on_self_in(member) for member in family(klass)))


def only_stored_parameters(function, owner) -> list[str]:
    """Parameters the body only copies into ``self.<attr> = ...`` where no method of the class's family reads
    ``self.<attr>`` and no code in kerasish reads ``<obj>.<attr>``."""
    if owner is None:
        return []
    node = function_node(function)
    stored = []
    for name in parameter_names(node):
        uses = loads(ast.Module(body=node.body, type_ignores=[]), name)
        attributes, in_stores = set(), 0
        for statement in ast.walk(node):
            if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                    and isinstance(statement.targets[0], ast.Attribute) and is_self(statement.targets[0].value)):
                found = loads(statement.value, name)
                if found:
                    attributes.add(statement.targets[0].attr)
                    in_stores += len(found)
        if uses and in_stores == len(uses):
            if not attributes & (attributes_read_in_package() | attributes_read_on_self(owner)):
                stored.append(name)
    return stored


def is_callback_hook_parameter(qualname: str, owner, parameter: str) -> bool:
    return (owner is not None and issubclass(owner, Callback) and qualname.rpartition(".")[2].startswith("on_")
            and parameter in CALLBACK_HOOK_PARAMETERS)


def findings(check) -> list[str]:
    problems = []
    for qualname, (function, owner) in sorted(public_callables().items()):
        for parameter in check(function, owner):
            key = f"{qualname}: {parameter}"
            if key not in ALLOWED and not is_callback_hook_parameter(qualname, owner, parameter):
                problems.append(key)
    return problems


def test_the_walk_covers_the_public_api():
    walked = public_callables()
    for expected in ["kerasish.layers.core.Dropout.__init__", "kerasish.layers.core.Lambda.__init__",
                     "kerasish.callbacks.tensorboard.TensorBoard.__init__", "kerasish.models.model.Model.fit",
                     "kerasish.models.model.Model.fit_generator", "kerasish.optimizers.Adam.__init__",
                     "kerasish.losses.BinaryCrossentropy.__init__", "kerasish.metrics.MeanMetricWrapper.batch_state",
                     "kerasish.preprocessing.image.generator.ImageDataGenerator.__init__",
                     "kerasish.preprocessing.image.generator.ImageDataGenerator.flow_from_dataframe",
                     "kerasish.preprocessing.image.iterators.DirectoryIterator.__init__",
                     "kerasish.utils.np_utils.to_categorical", "kerasish.utils.progbar.Progbar.__init__"]:
        assert expected in walked
    assert len(walked) > 300


def test_no_public_parameter_is_left_unread():
    assert findings(unread_parameters) == [], (
        "these parameters are never read: make them work as in Keras 2.3.1, or raise or warn; if Keras ignores "
        "them too, add them to ALLOWED with the reason")


def test_no_public_argument_is_only_stored_where_nothing_reads_it():
    assert findings(only_stored_parameters) == [], (
        "these arguments are only copied into attributes that nothing reads (get_config aside): make them work, "
        "or raise or warn")


def test_every_allowed_parameter_is_still_unread():
    walked = public_callables()
    for key in ALLOWED:
        qualname, parameter = key.split(": ")
        assert qualname in walked, f"ALLOWED names {qualname}, which the walk no longer finds"
        assert parameter in unread_parameters(walked[qualname][0]), f"{key} is read now: remove it from ALLOWED"


def test_the_checks_catch_an_ignored_and_a_merely_stored_argument():
    class Example:
        def __init__(self, used, ignored, stored_only, **kwargs):
            if used is None or kwargs:
                raise ValueError("used and no other keyword")
            self.never_read_anywhere_attribute = stored_only

    assert unread_parameters(Example.__init__) == ["ignored"]
    assert only_stored_parameters(Example.__init__, Example) == ["stored_only"]
