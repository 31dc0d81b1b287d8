"""Configuration dataclasses: load from YAML/TOML, override from the command line, save resolved.

Every run (playground, training, sweep, study) is described by a dataclass whose fields are made
with :func:`option`: a default, one line of help and, for a name from a fixed list, its choices.
The command line builds its flags from these fields (:func:`field_options`), so a field is written
once and appears on the CLI and in ``--help`` with its default. :func:`load_config` builds a config
from a file and ``key=value`` overrides, converting each value to the field's annotated type
(:func:`convert_value`, the same for ``--set lr=0.1`` and ``--lr 0.1``), and refuses unknown keys
with the list of valid ones. :func:`save_config` writes the resolved config beside the run, so a
run directory always says exactly what produced it.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from neuralab.atomic import write_text
from neuralab.errors import NeuralabError, unknown_name_error

C = TypeVar("C")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def option(
    default: Any,
    *,
    help: str,
    choices: Sequence[str] | None = None,
    group: str | None = None,
) -> Any:
    """Return a dataclass field with ``default`` and the help text the command line shows.

    ``help`` says what the field means (never its default: the command line shows that);
    ``choices`` the valid names when they are not already the field's ``Literal`` type; ``group``
    the section of ``--help`` the flag is listed in. For example
    ``lr: float = option(0.003, help="peak learning rate eta", group="optimisation")``.
    """
    metadata = {"help": help, "choices": tuple(choices) if choices else None, "group": group}
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class FieldOption:
    """One config field as the command line shows it: flag, help, choices, default."""

    name: str  # the field name, e.g. "batch_size"
    annotation: Any  # its type, e.g. int | None
    default: Any
    help: str
    choices: tuple[str, ...] | None
    group: str | None

    @property
    def flag(self) -> str:
        """Return the flag of the field: ``batch_size`` -> ``--batch-size``."""
        return "--" + self.name.replace("_", "-")

    @property
    def is_bool(self) -> bool:
        """Return whether the field is a switch (``bool`` or ``bool | None``)."""
        return self.annotation is bool or set(typing.get_args(self.annotation)) == {
            bool,
            type(None),
        }

    @property
    def default_text(self) -> str:
        """Return the default as it is typed on the command line: ``0.003``, ``4,2``, ``none``."""
        return show_value(self.default)


def show_value(value: Any) -> str:
    """Return ``value`` as it is typed after ``--set field=``: ``(4, 2)`` -> ``4,2``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return ",".join(show_value(v) for v in value) if value else "''"
    return str(value)


def field_options(config_class: type) -> list[FieldOption]:
    """Return every field of a config dataclass as a :class:`FieldOption`, in declaration order.

    Choices come from the field's metadata, else from its ``Literal`` type (also inside
    ``Literal[...] | None``).
    """
    hints = typing.get_type_hints(config_class)
    options = []
    for item in dataclasses.fields(config_class):
        annotation = hints[item.name]
        choices = item.metadata.get("choices") or literal_choices(annotation)
        options.append(
            FieldOption(
                name=item.name,
                annotation=annotation,
                default=item.default,
                help=item.metadata.get("help", ""),
                choices=choices,
                group=item.metadata.get("group"),
            )
        )
    return options


def literal_choices(annotation: Any) -> tuple[str, ...] | None:
    """Return the names of a ``Literal[...]`` type (also inside a union, as in ``... | None``)."""
    if typing.get_origin(annotation) is typing.Literal:
        return tuple(str(a) for a in typing.get_args(annotation))
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        names = [n for a in typing.get_args(annotation) for n in literal_choices(a) or ()]
        return tuple(names) or None
    return None


def config_fields(config_class: type) -> list[str]:
    """Return the field names of a config dataclass, in declaration order."""
    return [f.name for f in dataclasses.fields(config_class)]


def config_to_dict(config: Any) -> dict[str, Any]:
    """Return the config as plain data (tuples become lists), ready for YAML or JSON."""

    def plain(value: Any) -> Any:
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, Path):
            return str(value)
        return value

    return {k: plain(v) for k, v in dataclasses.asdict(config).items()}


def read_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML (``.yaml``/``.yml``) or TOML (``.toml``) file into a dict."""
    from neuralab.paths import input_file

    file = input_file(path, "config file", expected="a YAML or TOML file")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise NeuralabError(
            f"config file {str(file)!r} is not a UTF-8 text file ({type(error).__name__})"
        ) from None
    try:
        if file.suffix == ".toml":
            import tomllib

            data: Any = tomllib.loads(text)
        else:
            data = yaml.safe_load(text)
    except Exception as error:  # noqa: BLE001 (any parse error is the user's file)
        raise NeuralabError(
            f"config file {str(file)!r} cannot be parsed: {_parse_problem(error)}"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise NeuralabError(f"config file {str(file)!r} must hold a mapping of field: value")
    return data


def _parse_problem(error: Exception) -> str:
    """Return a YAML or TOML parse error in one line: the problem and where it is."""
    problem = getattr(error, "problem", None)
    mark = getattr(error, "problem_mark", None)
    if problem:  # yaml.MarkedYAMLError: the message spans several lines with a code excerpt
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        return f"{problem}{where}"
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def parse_overrides(items: Iterable[str]) -> dict[str, str]:
    """Parse ``["lr=0.1", "hidden=8,8"]`` into ``{"lr": "0.1", "hidden": "8,8"}``."""
    result: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise NeuralabError(f"override {item!r} is not of the form field=value")
        result[key.strip().replace("-", "_")] = value.strip()
    return result


def load_config(
    config_class: type[C],
    path: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> C:
    """Return ``config_class`` built from defaults, then the file at ``path``, then ``overrides``.

    Values given as strings (from the command line) are converted to each field's type; unknown
    keys raise an error listing the valid fields.
    """
    values: dict[str, Any] = {}
    if path is not None:
        values.update(read_config_file(path))
    if overrides:
        values.update({k: v for k, v in overrides.items() if v is not None})
    return make_config(config_class, values)


def make_config(config_class: type[C], values: Mapping[str, Any]) -> C:
    """Return ``config_class(**values)`` with each value converted to its field's type."""
    converted = convert_fields(config_class, values)
    try:
        return config_class(**converted)
    except NeuralabError:
        raise  # the config's own check already names the field
    except (TypeError, ValueError) as error:
        raise NeuralabError(f"invalid {config_class.__name__}: {error}") from None


def convert_fields(config_class: type, values: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``values`` with each converted to its field's type (unknown fields refused)."""
    if not dataclasses.is_dataclass(config_class):
        raise TypeError(f"{config_class!r} is not a dataclass")
    hints = typing.get_type_hints(config_class)
    valid = config_fields(config_class)
    converted: dict[str, Any] = {}
    for key, value in values.items():
        if not isinstance(key, str):  # a YAML key such as 12: or true:
            raise NeuralabError(
                f"{key!r} is not a field name of {config_class.__name__} "
                f"(valid: {', '.join(valid)})"
            )
        name = key.replace("-", "_")
        if name not in valid:
            raise unknown_name_error(f"{config_class.__name__} field", key, valid)
        converted[name] = convert_value(value, hints[name], name)
    return converted


def config_yaml(config: Any) -> str:
    """Return the config as the YAML text :func:`save_config` writes (fields in order)."""
    return yaml.safe_dump(config_to_dict(config), sort_keys=False, default_flow_style=False)


def save_config(config: Any, path: str | os.PathLike[str]) -> Path:
    """Write the resolved config to ``path`` as YAML (atomically) and return the path."""
    return write_text(path, config_yaml(config))


def convert_value(value: Any, annotation: Any, name: str = "value") -> Any:
    """Convert ``value`` (often a string from the command line) to the type ``annotation``."""
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() in {"none", "null", ""}):
            if type(None) in arguments:
                return None
        errors = []
        for option in arguments:
            if option is type(None):
                continue
            try:
                return convert_value(value, option, name)
            except NeuralabError as error:
                errors.append(str(error))
        raise NeuralabError(errors[0] if errors else f"{name}: cannot convert {value!r}")
    if origin is typing.Literal:
        text = str(value)
        for option in arguments:
            if str(option) == text:
                return option
        raise unknown_name_error(name, text, [str(a) for a in arguments])
    if origin in (tuple, list):
        items = _split_list(value)
        if origin is tuple and len(arguments) == 2 and arguments[1] is Ellipsis:
            return tuple(convert_value(v, arguments[0], name) for v in items)
        if origin is tuple and arguments:
            if len(items) != len(arguments):
                raise NeuralabError(f"{name}={value!r} needs {len(arguments)} values")
            return tuple(convert_value(v, a, name) for v, a in zip(items, arguments, strict=True))
        element = arguments[0] if arguments else str
        converted = [convert_value(v, element, name) for v in items]
        return tuple(converted) if origin is tuple else converted
    if origin is dict or annotation is dict:
        if isinstance(value, dict):
            return value
        raise NeuralabError(f"{name} must be a mapping, got {value!r}")
    if annotation is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise NeuralabError(f"{name}={value!r} is not a boolean (use true or false)")
    if annotation is int:
        if isinstance(value, bool):
            raise NeuralabError(f"{name}={value!r} is not an integer")
        try:
            # int() first: a seed of 20 digits read through float() would lose its last ones
            number: float = value if isinstance(value, int) else int(str(value).strip())
        except ValueError:
            try:
                number = float(value)  # "1e3", "12.0"
            except (TypeError, ValueError):
                raise NeuralabError(f"{name}={value!r} is not an integer") from None
        if isinstance(number, float) and (not math.isfinite(number) or number != int(number)):
            raise NeuralabError(f"{name}={value!r} is not an integer")
        return int(number)
    if annotation is float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise NeuralabError(f"{name}={value!r} is not a number") from None
    if annotation is str:
        return str(value)
    if annotation is Path:
        return Path(str(value))
    if annotation is Any:
        return value
    return value


def _split_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    if value is None:
        return []
    text = str(value).strip().strip("[]()")
    if not text:
        return []
    return [part.strip() for part in text.split(",")]
