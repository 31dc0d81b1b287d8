"""Command-line flags generated from a config dataclass: one flag per field, written once.

Each field of a config made with :func:`neuralab.config.option` becomes ``--field-name`` (a
switch ``--x/--no-x`` for a boolean), with the field's help, its choices as the metavar, its
default shown by ``--help`` and its ``group`` as the section it is listed in. A flag's value is
passed on as text and converted like ``--set field=value`` (:func:`neuralab.config.convert_value`),
so ``--hidden 8,8`` and ``--set hidden=8,8`` mean the same. Only the config modules are imported
here, never torch: ``--help`` stays fast.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

import typer

from neuralab.config import FieldOption, field_options

F = TypeVar("F", bound=Callable[..., Any])


def config_flags(
    config_class: type,
    *,
    exclude: Collection[str] = (),
    defaults: Mapping[str, Any] | None = None,
    into: str = "fields",
) -> Callable[[F], F]:
    """Return a decorator adding one option per field of ``config_class`` to a typer command.

    The decorated function takes a parameter named ``into`` (``fields: dict[str, Any]``): the
    flags given on the command line, by field name, as raw values (text, or True/False for
    switches); fields not given are left out, so the config file and ``--set`` values
    underneath them stay. ``defaults`` are the defaults this command shows where they differ
    from the dataclass's (the command applies them itself, under the file and ``--set``).
    Decorators for two configs stack when their ``into`` differ.
    """
    options = [
        dataclasses.replace(o, default=(defaults or {}).get(o.name, o.default))
        for o in field_options(config_class)
        if o.name not in exclude
    ]
    prefix = f"{into}__"

    def decorate(function: F) -> F:
        signature = inspect.signature(function)
        hints = typing.get_type_hints(function)
        own = [
            parameter.replace(annotation=hints.get(parameter.name, parameter.annotation))
            for parameter in signature.parameters.values()
            if parameter.name != into
        ]
        # typer passes the click context to one parameter only: share the command's if it has one
        shared = next((p.name for p in own if p.annotation is typer.Context), None)
        context_name = shared or f"{into}__context"
        generated = [
            inspect.Parameter(
                prefix + o.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=_typer_option(o),
                annotation=bool | None if o.is_bool else str | None,
            )
            for o in options
        ]

        @functools.wraps(function)
        def command(**kwargs: Any) -> Any:
            # a flag's default only shows the field's default in --help: what was not typed is
            # left to the config file and --set underneath (typer passes the click context,
            # which knows where each value came from)
            context = kwargs[context_name] if shared else kwargs.pop(context_name)
            fields = {}
            for o in options:
                value = kwargs.pop(prefix + o.name)
                source = context.get_parameter_source(prefix + o.name)
                if source is not None and source.name != "DEFAULT":
                    fields[o.name] = value
            return function(**kwargs, **{into: fields})

        parameters = [*own, *generated]
        if not shared:
            parameters.append(
                inspect.Parameter(
                    context_name, inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context
                )
            )
        command.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        return typing.cast(F, command)

    return decorate


def _typer_option(field: FieldOption) -> Any:
    if field.is_bool:
        name = field.flag[2:]
        return typer.Option(
            field.default,
            f"--{name}/--no-{name}",
            help=_sentence(field.help),
            show_default=field.default is not None,
            rich_help_panel=field.group,
        )
    return typer.Option(
        field.default_text,
        field.flag,
        help=_sentence(field.help),
        show_default=True,
        metavar=_metavar(field),
        rich_help_panel=field.group,
    )


def _sentence(text: str) -> str:
    return text if text.endswith(".") else text + "."


def _metavar(field: FieldOption) -> str:
    if field.choices:
        return "[" + "|".join(field.choices) + "]"
    kinds = {int: "INTEGER", float: "FLOAT", str: "TEXT"}
    annotation = field.annotation
    arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, type(int | None)) and arguments:
        annotation = arguments[0]
    if typing.get_origin(annotation) in (tuple, list):
        element = typing.get_args(annotation)[0] if typing.get_args(annotation) else str
        kind = {int: "INT", float: "NUMBER"}.get(element, "NAME")
        return f"{kind},{kind},..."
    return kinds.get(annotation, "TEXT")


def set_option(help: str = "FIELD=VALUE for any field below (repeatable).") -> Any:
    """Return the ``--set FIELD=VALUE`` option: the same conversion as the field's own flag."""
    return typer.Option(None, "--set", metavar="FIELD=VALUE", help=help, show_default=False)


def config_file_option(config_class: type) -> Any:
    """Return the ``--config FILE`` option: a YAML or TOML file of ``config_class`` fields."""
    return typer.Option(
        None,
        "--config",
        metavar="FILE",
        help=f"YAML/TOML file of {config_class.__name__} fields (under --set and the flags).",
        show_default=False,
    )
