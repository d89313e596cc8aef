"""Tests for named activations and the spec parser."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from theorylab.theory.activations import ACTIVATIONS, Activation, parse_activation

EXPECTED_NAMES = {
    "relu",
    "tanh",
    "erf",
    "sign",
    "linear",
    "sigmoid",
    "gelu",
    "abs",
    "quadratic",
    "cube",
    "softplus",
    "door",
    "sin",
}

X = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])

# Reference values written out independently of the implementations.
REFERENCE = {
    "relu": [0.0, 0.0, 0.0, 0.5, 2.0],
    "tanh": [math.tanh(v) for v in X],
    "erf": [math.erf(v) for v in X],
    "sign": [-1.0, -1.0, 0.0, 1.0, 1.0],
    "linear": list(X),
    "sigmoid": [1 / (1 + math.exp(-v)) for v in X],
    "gelu": [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in X],
    "abs": [2.0, 0.5, 0.0, 0.5, 2.0],
    "quadratic": [4.0, 0.25, 0.0, 0.25, 4.0],
    "cube": [-8.0, -0.125, 0.0, 0.125, 8.0],
    "softplus": [math.log1p(math.exp(v)) for v in X],
    "sin": [math.sin(v) for v in X],
    # door(x) = 1.1 sign(x) min(|x|, 2) (arXiv 2302.00401 note): X has |x| = 2 at the knee.
    "door": [-2.2, -0.55, 0.0, 0.55, 2.2],
}


def test_registry_names_and_read_only() -> None:
    assert set(ACTIVATIONS) == EXPECTED_NAMES
    with pytest.raises(TypeError):
        ACTIVATIONS["foo"] = np.tanh  # type: ignore[index]


@pytest.mark.parametrize("name", sorted(EXPECTED_NAMES))
def test_activation_values(name: str) -> None:
    act = parse_activation(name)
    np.testing.assert_allclose(act(X), REFERENCE[name], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(ACTIVATIONS[name](X), REFERENCE[name], rtol=1e-14, atol=1e-15)


def test_known_points() -> None:
    assert float(parse_activation("gelu")(np.array(1.0))) == pytest.approx(0.8413447460685429)
    assert float(parse_activation("softplus")(np.array(0.0))) == pytest.approx(math.log(2))
    assert float(parse_activation("sigmoid")(np.array(0.0))) == 0.5
    # softplus and sigmoid stay finite for large arguments
    big = np.array([-1000.0, 1000.0])
    np.testing.assert_allclose(parse_activation("softplus")(big), [0.0, 1000.0])
    np.testing.assert_allclose(parse_activation("sigmoid")(big), [0.0, 1.0])


def test_scaled_call() -> None:
    act = parse_activation("tanh(2x)")
    assert act.name == "tanh"
    assert act.scale == 2.0
    np.testing.assert_allclose(act(X), np.tanh(2 * X))
    np.testing.assert_allclose(parse_activation("relu(1.5x)")(X), np.maximum(1.5 * X, 0))


@pytest.mark.parametrize(
    ("text", "name", "scale", "spec"),
    [
        ("tanh", "tanh", 1.0, "tanh"),
        ("  tanh ", "tanh", 1.0, "tanh"),
        ("tanh(2x)", "tanh", 2.0, "tanh(2x)"),
        ("tanh(2.0x)", "tanh", 2.0, "tanh(2x)"),
        ("tanh( 2 x )", "tanh", 2.0, "tanh(2x)"),
        ("tanh (2*x)", "tanh", 2.0, "tanh(2x)"),
        ("erf(0.5x)", "erf", 0.5, "erf(0.5x)"),
        ("erf(.5x)", "erf", 0.5, "erf(0.5x)"),
        ("relu(1.5x)", "relu", 1.5, "relu(1.5x)"),
        ("sign(1e-1x)", "sign", 0.1, "sign(0.1x)"),
        ("relu(1x)", "relu", 1.0, "relu"),
        ("cube(2.5E2x)", "cube", 250.0, "cube(250x)"),
    ],
)
def test_parse_round_trip(text: str, name: str, scale: float, spec: str) -> None:
    act = parse_activation(text)
    assert act.name == name
    assert act.scale == pytest.approx(scale)
    assert act.fn is ACTIVATIONS[name]
    assert act.spec == spec
    again = parse_activation(act.spec)
    assert again == act
    assert again.spec == spec


def test_parse_passes_activation_through() -> None:
    act = Activation("tanh", np.tanh, 3.0)
    assert parse_activation(act) is act
    assert act.spec == "tanh(3x)"


def test_parse_wraps_callables() -> None:
    def my_act(x: np.ndarray) -> np.ndarray:
        return x + 1

    act = parse_activation(my_act)
    assert act.name == "my_act"
    assert act.scale == 1.0
    assert act.fn is my_act
    np.testing.assert_allclose(act(X), X + 1)

    anonymous = parse_activation(lambda x: 2 * x)
    assert anonymous.name == "custom"
    np.testing.assert_allclose(anonymous(X), 2 * X)


def test_activation_is_frozen() -> None:
    act = parse_activation("tanh")
    with pytest.raises(dataclasses.FrozenInstanceError):
        act.scale = 2.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "text", ["foo", "tanh(2y)", "tanh(x2)", "tanh(2x", "tanh()", "", "2x", "tanh(2)", "tanh(inf x)"]
)
def test_parse_rejects_malformed_or_unknown(text: str) -> None:
    with pytest.raises(ValueError, match="choose one of abs, cube") as info:
        parse_activation(text)
    assert "\n" not in str(info.value)
    assert "tanh(2x)" in str(info.value)


def test_unknown_name_message() -> None:
    expected = r"unknown activation 'foo'; choose one of abs, cube, door, erf"
    with pytest.raises(ValueError, match=expected):
        parse_activation("foo(2x)")


@pytest.mark.parametrize("text", ["tanh(0x)", "tanh(-1x)", "tanh(0.0x)", "relu(1e999x)"])
def test_parse_rejects_bad_scale(text: str) -> None:
    with pytest.raises(ValueError, match="scale"):
        parse_activation(text)


@pytest.mark.parametrize("scale", [0.0, -2.0, math.inf, math.nan])
def test_activation_rejects_bad_scale(scale: float) -> None:
    with pytest.raises(ValueError, match="scale"):
        Activation("tanh", np.tanh, scale)


def test_parse_rejects_other_types() -> None:
    with pytest.raises(TypeError):
        parse_activation(3)  # type: ignore[arg-type]


def test_theory_layer_does_not_import_torch() -> None:
    # The theory layer must stay numpy/scipy only (static check of every module in the package).
    import ast
    from pathlib import Path

    import theorylab.theory

    package_dir = Path(theorylab.theory.__file__).parent
    for path in sorted(package_dir.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert "torch" not in roots, f"{path.name} imports torch"


def test_door_saturates_beyond_the_knee() -> None:
    door = parse_activation("door")
    np.testing.assert_allclose(door(np.array([-7.0, -2.5, 1.0, 3.0])), [-2.2, -2.2, 1.1, 2.2])
    np.testing.assert_allclose(parse_activation("door(2x)")(np.array([0.5, 1.5])), [1.1, 2.2])
