"""Fuzzing every text parser: whatever a person types, the answer is a value or one clear error.

Each parser of :data:`PARSERS` gets generated text, from random characters and from a soup of
its own tokens (so the inputs reach past the first check): the layer spec (parsed, built and run
on a dry input), shapes and size pairs, matrices and vectors, ``--set`` overrides of the
playground and training configs, ``--grid`` axes, YAML configs, CSV data of the playground and
the perceptron, and the smaller ones (``--max-memory`` sizes, ``--compare`` axes, Boolean
targets and candidates). The only exception allowed is :class:`~neuralab.errors.NeuralabError`
with a message of one line (a spec error adds the spec and a caret under the mistake).

A few hundred inputs per parser in the default run; ``pytest -m slow`` runs 10,000 each.
Inputs that once broke a parser are kept below as regression cases (:data:`FOUND`).
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuralab.errors import NeuralabError

FAST_EXAMPLES = 200
SLOW_EXAMPLES = 10_000
# a model a fuzzed spec builds must stay small: the memory limit refuses the rest
FUZZ_MEMORY_LIMIT = "64MB"
_FOLDER = Path(tempfile.mkdtemp(prefix="neuralab-fuzz-"))


def soup(tokens: list[str], max_size: int = 12) -> st.SearchStrategy[str]:
    """Text made of ``tokens`` in any order, or of any characters at all."""
    joined = st.lists(st.sampled_from(tokens), max_size=max_size).map("".join)
    return st.one_of(joined, joined, st.text(max_size=40))


NUMBERS = ["0", "1", "2", "3", "7", "10", "-1", "-0", "0.5", "1e3", "1e400", "99999999999999999999"]
NUMBERS += ["nan", "inf", "-inf", "1_0", "٣", "0x10", ".", "e", "+", "-", " ", ""]

SPEC_TOKENS = [
    "conv", "fc", "relu", "maxpool", "avgpool", "flatten", "dropout", "bn", "gap", "sigmoid",
    "tanh", "convT", "softmax", "identity", "lstm", "(", ")", "(", ")", ",", ",", "->", "->",
    "*", "=", "s", "p", "stride", "padding", "same", "valid", "true", "3x3", "2x1", "0x0",
    *NUMBERS,
]  # fmt: skip
SHAPE_TOKENS = ["x", "X", "x", ",", "*", " ", "×", *NUMBERS]
MATRIX_TOKENS = [
    "[", "]", "[", "]", ",", ",", ";", " ", "(", ")", "{", "}", "True", "None", "'a'", "j",
    "__import__", "1+2j", *NUMBERS,
]  # fmt: skip
GRID_TOKENS = [":", ":", ",", ",", "=", "lr", "dropout", "epochs", "optimizer", "sgd", "adam"]
GRID_TOKENS += ["model", "cnn", "data", "seed", "true", *NUMBERS]
CSV_TOKENS = [",", ",", "\n", "\n", "x1", "x2", "label", " ", '"', ";", "\t", *NUMBERS]
YAML_TOKENS = [
    "lr: ", "hidden: ", "epochs: ", "data: ", "n: ", "features: ", "activation: ", "seed: ",
    "batch_size: ", "model: ", "widths: ", "\n", "\n", "- ", "[", "]", "{", "}", ":", ", ",
    "!!python/object:os.system", "&a ", "*a", "'", '"', "\t", "relu", "xor", "cnn", "digits",
    "null", "true", "~", *NUMBERS,
]  # fmt: skip
YAML_VALUES = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10),
        st.sampled_from(["relu", "xor", "cnn", "digits", "he", "adam", "4,2", "8x8"]),
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip


def _fields(config_class: type) -> list[str]:
    import dataclasses

    return [f.name for f in dataclasses.fields(config_class)]


def _config_fields() -> list[str]:
    from neuralab.playground.config import PlaygroundConfig
    from neuralab.vision.config import TrainConfig

    return sorted({*_fields(PlaygroundConfig), *_fields(TrainConfig), "colour", ""})


def _write(name: str, content: str | bytes) -> Path:
    path = _FOLDER / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    return path


# --- what each parser is given, and how it is called -------------------------------------------


def parse_spec_and_run(text: str) -> Any:
    from neuralab.arch.model_source import load_model

    return load_model(text, (3, 16, 16), check=True)  # parsed, built (meta first), run dry


def parse_shape(text: str) -> Any:
    from neuralab.arch.shapes import parse_shape

    for expected in ("", "CxHxW", "HxW"):
        try:
            parse_shape(text, what="--input", expected=expected)
        except NeuralabError as error:
            _check_message(error)


def parse_pair(text: str) -> Any:
    from neuralab.arch.shapes import parse_pair

    return parse_pair(text, "--stride", minimum=1)


def parse_matrix(text: str) -> Any:
    from neuralab.theory.matrices import parse_matrix, parse_vector

    try:
        parse_matrix(text, "--w1", shape=(None, 2), shape_names=("hidden", "inputs"))
    except NeuralabError as error:
        _check_message(error)
    return parse_vector(text, "--c")


def set_overrides(items: list[tuple[str, str]]) -> Any:
    from neuralab.config import make_config, parse_overrides
    from neuralab.playground.config import PlaygroundConfig
    from neuralab.vision.config import TrainConfig

    overrides = parse_overrides([f"{key}={value}" for key, value in items])
    for config_class in (PlaygroundConfig, TrainConfig):
        valid = set(_fields(config_class))
        try:
            make_config(config_class, {k: v for k, v in overrides.items() if k in valid or not k})
        except NeuralabError as error:
            _check_message(error)


def grid_axis(text: str) -> Any:
    from neuralab.studies.sweep.grid import parse_grid
    from neuralab.studies.sweep.spec import SweepSpec
    from neuralab.vision.config import TrainConfig

    axis = parse_grid(text, TrainConfig)
    return SweepSpec.from_axes({"data": "digits"}, [axis]).settings()


def yaml_config(text: str) -> Any:
    from neuralab.config import load_config
    from neuralab.playground.config import PlaygroundConfig
    from neuralab.vision.config import TrainConfig

    path = _write("config.yaml", text)
    for config_class in (PlaygroundConfig, TrainConfig):
        try:
            load_config(config_class, path)
        except NeuralabError as error:
            _check_message(error)


def yaml_values(values: dict[str, Any]) -> Any:
    try:
        text = yaml.safe_dump(values)
    except (yaml.YAMLError, ValueError):
        return None  # not representable: nothing a person could have written
    return yaml_config(text)


def playground_csv(text: str) -> Any:
    from neuralab.playground.csv_data import parse_points_csv

    return parse_points_csv(text, name="csv:points.csv")


def perceptron_csv(text: str) -> Any:
    from neuralab.theory.perceptron import load_csv_dataset

    return load_csv_dataset(_write("data.csv", text))


def memory_size(text: str) -> Any:
    from neuralab.limits import parse_size

    return parse_size(text)


def compare_axis(text: str) -> Any:
    from neuralab.playground.config import PlaygroundConfig
    from neuralab.playground.grid_axes import grid_configs, parse_compare

    return grid_configs(PlaygroundConfig(), parse_compare([text]))


def boolean_target(text: str) -> Any:
    from neuralab.theory.boolean import target_bits

    return target_bits(text)


def boolean_candidate(text: str) -> Any:
    from neuralab.theory.boolean_candidates import parse_candidates

    return parse_candidates(None, [text])


PARSERS: dict[str, tuple[st.SearchStrategy[Any], Callable[[Any], Any]]] = {
    "layer spec": (soup(SPEC_TOKENS, 16), parse_spec_and_run),
    "shape": (soup(SHAPE_TOKENS), parse_shape),
    "size pair": (soup(SHAPE_TOKENS, 5), parse_pair),
    "matrix": (soup(MATRIX_TOKENS, 20), parse_matrix),
    "--set overrides": (
        st.lists(st.tuples(st.sampled_from(_config_fields()), soup(GRID_TOKENS, 6)), max_size=4),
        set_overrides,
    ),
    "--grid axis": (
        st.tuples(st.sampled_from(_config_fields()), soup(GRID_TOKENS, 8)).map("=".join)
        | soup(GRID_TOKENS),
        grid_axis,
    ),
    "YAML config text": (soup(YAML_TOKENS, 16), yaml_config),
    "YAML config values": (
        st.dictionaries(st.sampled_from(_config_fields()), YAML_VALUES, max_size=5),
        yaml_values,
    ),
    "playground CSV": (soup(CSV_TOKENS, 40), playground_csv),
    "perceptron CSV": (soup(CSV_TOKENS, 40), perceptron_csv),
    "--max-memory size": (soup(["1", "0", "5", ".", "e", "9", "GB", "MiB", "k", "t", " "]), memory_size),
    "--compare axis": (
        st.tuples(st.sampled_from(_config_fields()), soup(GRID_TOKENS, 6)).map("=".join),
        compare_axis,
    ),
    "Boolean target": (soup(["XOR", "AND", "NOT", "A", "B", " ", "0", "1", "OR", "("]), boolean_target),
    "Boolean candidate": (soup([*MATRIX_TOKENS, "|", "|"], 20), boolean_candidate),
}  # fmt: skip

# inputs that once broke a parser (a traceback or a message of several lines), kept as they were
FOUND: list[tuple[str, Any]] = [
    ("--grid axis", "depth=1e310"),  # int(inf) overflowed in the field conversion
    ("layer spec", "(\x1eA"),  # the caret display split at a control character
    ("YAML config text", "99999999999999999999:"),  # an integer key: 'int' has no .replace
    ("playground CSV", "\r0"),
    (
        "matrix",
        "[[1for]]",
    ),  # Python's SyntaxWarning from literal_eval reached stderr  # csv.Error: new-line character seen in unquoted field
    ("playground CSV", 'x1,"x2\n1'),
    ("--set overrides", [("epochs", "nan")]),  # int(nan)
    ("matrix", "[[1,nan],[2,3]]"),  # named the bad entry only in the MATLAB form
    ("matrix", "[1, abc]"),
    ("YAML config text", "lr: [0.1\n"),  # the YAML error spanned eight lines
    ("YAML config text", "\udcff"),  # not UTF-8
    ("perceptron CSV", "\udcff,1\n"),
]


def _check_message(error: NeuralabError) -> None:
    from neuralab.arch.spec_syntax import SpecError

    lines = str(error).strip().splitlines()
    assert lines and lines[0].strip(), "an empty error message"
    limit = 3 if isinstance(error, SpecError) else 1  # the spec, and a caret under the mistake
    assert len(lines) <= limit, f"a message of {len(lines)} lines: {error}"


def _run(parser: str, value: Any) -> None:
    """Call the parser: a value or one clear error, and no warning (it would reach stderr)."""
    call = PARSERS[parser][1]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call(value)
        except NeuralabError as error:
            _check_message(error)
    assert not [str(w.message) for w in caught], "a warning reached the user"


@pytest.fixture(scope="module", autouse=True)
def small_memory_limit():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEURALAB_MAX_MEMORY", FUZZ_MEMORY_LIMIT)
        patch.setenv("MPLBACKEND", "Agg")
        yield


def _fuzz(parser: str, examples: int) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        derandomize=examples == FAST_EXAMPLES,  # the default run is the same every time
    )
    @given(PARSERS[parser][0])
    def check(value: Any) -> None:
        _run(parser, value)

    check()


@pytest.mark.parametrize("parser", list(PARSERS))
def test_fuzz(parser: str) -> None:
    _fuzz(parser, FAST_EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("parser", list(PARSERS))
def test_fuzz_10000(parser: str) -> None:
    _fuzz(parser, SLOW_EXAMPLES)


@pytest.mark.parametrize(("parser", "value"), FOUND, ids=[f"{p}: {v!r}" for p, v in FOUND])
def test_found_cases(parser: str, value: Any) -> None:
    _run(parser, value)


def test_the_fuzzer_reaches_past_the_first_check() -> None:
    """Token soups make valid inputs too: the parsers are exercised, not only refused."""
    from neuralab.arch.shapes import parse_shape
    from neuralab.theory.matrices import parse_matrix

    assert parse_shape("3x32x32") == (3, 32, 32)
    assert parse_matrix("[[1, 2], [3, 4]]", "--w").shape == (2, 2)
    assert os.environ["NEURALAB_MAX_MEMORY"] == FUZZ_MEMORY_LIMIT
