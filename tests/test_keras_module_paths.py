"""Every Keras 2.3.1 module path in the checklist imports through ``import keras`` and has each public name.

The checklist is tests/fixtures/keras231_names/: one file per Keras module (``keras.layers.core.txt``), a few
``# `` lines saying where the names came from, then one name per line; a name that cannot exist on PyTorch is
written ``name  # impossible: why`` and must raise an error that names it when used (accessed, or called as
Keras users call it). One subprocess imports every module through the alias (``python -m kerasish`` running a
checking script), so the alias never reaches this test process; each module is then one test here.

The last tests pin the behaviour of the small names added for the checklist (Keras 2.3.1's aliases,
serialize/deserialize, ``clip_norm``, ``model_from_yaml`` ...) against Keras 2.3.1's definitions.
"""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
import yaml

from kerasish import activations, constraints, initializers, losses, metrics, optimizers, regularizers
from kerasish.layers import Dense, Input
from kerasish.models import Model, Sequential, model_from_yaml

CHECKLISTS = pathlib.Path(__file__).parent / "fixtures" / "keras231_names"
REPO = pathlib.Path(__file__).resolve().parent.parent


def read_checklist(path: pathlib.Path) -> dict[str, str | None]:
    """``{name: None}`` for a name that must exist, ``{name: reason}`` for one Keras has that cannot exist here."""
    names = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, comment = line.partition("#")
        reason = comment.strip()
        if reason and not reason.startswith("impossible:"):
            raise AssertionError(f"{path.name}: {line!r}: a comment after a name must start with 'impossible:'")
        names[name.strip()] = reason.removeprefix("impossible:").strip() or None
    return names


CHECKER = textwrap.dedent('''
    """Run by `python -m kerasish`: imports each module named in the checklists as `keras.X` and checks its names."""
    import importlib, inspect, json, sys

    def use(value):
        """Call an impossible name as Keras users do: with a placeholder for each required argument."""
        target = value.__init__ if inspect.isclass(value) else value
        parameters = list(inspect.signature(target).parameters.values())[1 if inspect.isclass(value) else 0:]
        required = [p for p in parameters if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY,
                                                                                p.POSITIONAL_OR_KEYWORD)]
        value(*[object() for _ in required])

    def impossible_problem(module, name):
        try:
            use(getattr(module, name))
        except TypeError as err:
            return f"raised a TypeError rather than saying why it cannot exist: {err}"
        except Exception as err:  # the explaining error: it must name what was used
            return None if name in str(err) else f"raised {type(err).__name__} without naming {name!r}: {err}"
        return "is usable: either remove 'impossible' from the checklist or make it raise the explaining error"

    report = {}
    for module_name, names in json.loads(sys.argv[1]).items():
        try:
            module = importlib.import_module(module_name)
        except Exception as err:
            report[module_name] = {"import": f"{type(err).__name__}: {err}"}
            continue
        kerasish_name = "kerasish" + module_name[len("keras"):]
        problems = {}
        if sys.modules.get(kerasish_name) is not module:
            problems["<module>"] = f"keras module is not sys.modules[{kerasish_name!r}]"
        for name, reason in names.items():
            if reason is not None:
                problem = impossible_problem(module, name)
            elif not hasattr(module, name):
                problem = "missing"
            else:
                problem = None
            if problem:
                problems[name] = problem
        report[module_name] = {"problems": problems}
    print(json.dumps(report))
''')


@pytest.fixture(scope="module")
def alias_report(tmp_path_factory) -> dict:
    checklists = {path.stem: read_checklist(path) for path in sorted(CHECKLISTS.glob("*.txt"))}
    checker = tmp_path_factory.mktemp("checker") / "check_keras_names.py"
    checker.write_text(CHECKER)
    result = subprocess.run([sys.executable, "-m", "kerasish", str(checker), json.dumps(checklists)],
                            capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_each_checklist_says_where_its_names_came_from_and_names_a_keras_module():
    paths = sorted(CHECKLISTS.glob("*.txt"))
    assert len(paths) >= 40
    for path in paths:
        assert path.stem == "keras" or path.stem.startswith("keras."), path.name
        assert path.read_text().startswith("# "), f"{path.name}: the first lines say where the names came from"
        names = read_checklist(path)
        assert len(names) == len([line for line in path.read_text().splitlines()
                                  if line.strip() and not line.startswith("#")]), f"{path.name}: a name twice"


@pytest.mark.parametrize("module_name", sorted(path.stem for path in CHECKLISTS.glob("*.txt")))
def test_keras_231_module_path_imports_through_the_alias_with_every_public_name(module_name, alias_report):
    outcome = alias_report[module_name]
    assert "import" not in outcome, f"import {module_name}: {outcome.get('import')}"
    assert outcome["problems"] == {}, f"{module_name}: {outcome['problems']}"


def test_the_checker_reports_a_missing_name_and_an_impossible_name_that_works(tmp_path):
    # the harness itself can fail: a made-up name, and a real function declared impossible
    checker = tmp_path / "check.py"
    checker.write_text(CHECKER)
    names = {"keras.losses": {"no_such_loss": None, "Loss": "made up", "get": None},
             "keras.no_such_module": {}}
    result = subprocess.run([sys.executable, "-m", "kerasish", str(checker), json.dumps(names)],
                            capture_output=True, text=True, cwd=REPO, timeout=300)
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["keras.losses"]["problems"] == {
        "no_such_loss": "missing",
        "Loss": "is usable: either remove 'impossible' from the checklist or make it raise the explaining error"}
    assert "kerasish has no such module" in report["keras.no_such_module"]["import"]


# ------------------------------------------------------------------------ the small names added for the checklist
def test_lowercase_aliases_are_keras_classes():
    assert initializers.zero is initializers.zeros is initializers.Zeros
    assert initializers.one is initializers.ones is initializers.Ones
    assert initializers.uniform is initializers.random_uniform is initializers.RandomUniform
    assert initializers.normal is initializers.random_normal is initializers.RandomNormal
    assert (initializers.constant, initializers.truncated_normal, initializers.identity, initializers.orthogonal) == (
        initializers.Constant, initializers.TruncatedNormal, initializers.Identity, initializers.Orthogonal)
    assert constraints.maxnorm is constraints.MaxNorm and constraints.nonneg is constraints.NonNeg
    assert constraints.unitnorm is constraints.UnitNorm


@pytest.mark.parametrize("module, obj, class_name, config", [
    (constraints, constraints.MaxNorm(max_value=3, axis=1), "MaxNorm", {"max_value": 3, "axis": 1}),
    (regularizers, regularizers.L1L2(l1=0.5), "L1L2", {"l1": 0.5, "l2": 0.0}),
    (initializers, initializers.RandomUniform(-1, 2, seed=4), "RandomUniform", {"minval": -1, "maxval": 2, "seed": 4}),
])
def test_serialize_writes_class_name_and_config_and_deserialize_reads_it(module, obj, class_name, config):
    serialized = module.serialize(obj)
    assert serialized["class_name"] == class_name
    assert {k: pytest.approx(v) for k, v in serialized["config"].items()} == config
    again = module.deserialize(serialized)
    assert type(again) is type(obj) and again.get_config() == obj.get_config()


def test_initializers_deserialize_prefers_custom_objects():
    class Halves(initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return torch.full(shape, 0.5)

    made = initializers.deserialize({"class_name": "Halves", "config": {}}, custom_objects={"Halves": Halves})
    assert isinstance(made, Halves) and made((2,)).tolist() == [0.5, 0.5]


def test_activations_deserialize_looks_up_custom_objects_then_keras_names():
    def my_act(x):
        return x * 2

    assert activations.deserialize("my_act", custom_objects={"my_act": my_act}) is my_act
    assert activations.deserialize("relu") is activations.relu
    with pytest.raises(ValueError, match="Unknown activation function"):
        activations.deserialize("no_such_activation")


def test_is_categorical_crossentropy_by_name_function_and_instance():
    assert losses.is_categorical_crossentropy("categorical_crossentropy")
    assert losses.is_categorical_crossentropy(losses.categorical_crossentropy)
    assert losses.is_categorical_crossentropy(losses.CategoricalCrossentropy())
    assert not losses.is_categorical_crossentropy("sparse_categorical_crossentropy")
    assert not losses.is_categorical_crossentropy("no_such_loss")
    assert not losses.is_categorical_crossentropy(losses.BinaryCrossentropy())


def test_clip_norm_scales_by_c_over_n_once_the_norm_reaches_c():
    g = torch.tensor([3.0, 4.0])  # norm 5
    assert optimizers.clip_norm(g, 2.0, torch.tensor(5.0)).tolist() == pytest.approx([1.2, 1.6])  # g * 2 / 5
    assert optimizers.clip_norm(g, 10.0, torch.tensor(5.0)).tolist() == [3.0, 4.0]
    assert optimizers.clip_norm(g, 5.0, torch.tensor(5.0)).tolist() == pytest.approx([3.0, 4.0])
    assert optimizers.clip_norm(g, 0, torch.tensor(5.0)) is g


def test_tf_optimizer_says_what_to_pass_to_compile():
    with pytest.raises(RuntimeError, match=r"TFOptimizer: .*TensorFlow optimizer.*torch\.optim\.Adam"):
        optimizers.TFOptimizer(object())


def test_metrics_clone_gives_a_fresh_metric_of_the_same_configuration():
    accuracy = metrics.BinaryAccuracy(threshold=0.3)
    accuracy.update_state(torch.tensor([[1.0], [0.0]]), torch.tensor([[0.4], [0.2]]))
    clone = metrics.clone_metric(accuracy)
    assert type(clone) is metrics.BinaryAccuracy and clone is not accuracy
    assert clone.get_config() == accuracy.get_config()
    assert accuracy.result().item() == 1.0 and torch.isnan(clone.result())
    wrapper = metrics.MeanMetricWrapper(metrics.mae, name="m")
    cloned = metrics.clone_metrics({"out": wrapper, "f": metrics.mse})
    assert cloned["out"].fn is metrics.mae and cloned["out"].name == "m" and cloned["f"] is metrics.mse
    assert metrics.clone_metrics(None) is None


def test_metrics_deserialize_names_and_configs():
    assert metrics.deserialize("mse") is metrics.mean_squared_error
    made = metrics.deserialize({"class_name": "BinaryAccuracy", "config": {"threshold": 0.2}})
    assert isinstance(made, metrics.BinaryAccuracy) and made.get_config()["threshold"] == 0.2


def keras_yaml(model) -> str:
    """The YAML Keras 2.3.1's ``to_yaml()`` writes: ``yaml.dump`` of the config, whose shapes are Python tuples."""
    config = json.loads(model.to_json())
    first = config["config"]["layers"][0]["config"]
    first["batch_input_shape"] = tuple(first["batch_input_shape"])
    text = yaml.dump(config)
    assert "!!python/tuple" in text
    return text


def test_model_from_yaml_reads_keras_yaml_with_tuples():
    model = Sequential([Dense(3, activation="relu", input_shape=(4,)), Dense(2)])
    again = model_from_yaml(keras_yaml(model))
    assert [type(layer) for layer in again.layers] == [Dense, Dense]
    assert again.layers[0].units == 3 and again.input_shape == (None, 4)
    x = np.ones((2, 4), dtype="float32")
    again.set_weights(model.get_weights())
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-6)


def test_model_from_yaml_reads_a_functional_model():
    inputs = Input(shape=(3,), name="x")
    model = Model(inputs, Dense(2, name="out")(inputs))
    again = model_from_yaml(yaml.dump(json.loads(model.to_json())))
    assert [layer.name for layer in again.layers] == ["x", "out"] and again.output_shape == (None, 2)


def test_model_from_yaml_refuses_python_tags_other_than_tuples():
    with pytest.raises(yaml.constructor.ConstructorError):
        model_from_yaml("!!python/object/apply:os.system ['echo hacked']")
    assert "tag:yaml.org,2002:python/tuple" not in yaml.SafeLoader.yaml_constructors  # PyYAML itself unchanged


def test_tensorflow_backend_is_kerasish_backend_under_keras_name():
    from kerasish import backend as K
    tf_backend = K.tensorflow_backend
    assert tf_backend.mean is K.mean and tf_backend.set_session is K.set_session
    assert tf_backend.py_sum([1, 2]) == 3 and tf_backend.py_all([True, False]) is False
    assert tf_backend.is_symbolic(Input(shape=(2,))) and not tf_backend.is_symbolic(torch.ones(2))
    assert tf_backend.v1_variable_initialization() is None
    gpus = tf_backend._get_available_gpus()  # the idiom scripts use to ask for a GPU
    assert gpus == [f"/job:localhost/replica:0/task:0/device:GPU:{i}" for i in range(torch.cuda.device_count())]
    with pytest.raises(AttributeError, match="kerasish.backend under Keras's name"):
        tf_backend.no_such_function


def test_objectives_is_losses_under_keras_1_name():
    from kerasish import objectives
    assert objectives.categorical_crossentropy is losses.categorical_crossentropy and objectives.mse is losses.mse
    assert "mean_squared_error" in dir(objectives)
    with pytest.raises(AttributeError, match=r"kerasish.losses under Keras's name\) has no attribute 'no_such'"):
        objectives.no_such
