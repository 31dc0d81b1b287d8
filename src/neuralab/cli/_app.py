"""The typer application every command module registers on."""

from __future__ import annotations

import typer

from neuralab import __version__

app = typer.Typer(
    name="neuralab",
    help="A neural-networks course made executable: compute it, check it, see it, run it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        print(f"neuralab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_show_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
    debug: bool = typer.Option(
        False,
        "--debug",
        help="Show the traceback of an error (also when written after the command).",
    ),
    max_memory: str | None = typer.Option(
        None,
        "--max-memory",
        metavar="SIZE",
        help="Refuse work estimated to need more memory than SIZE (e.g. 16GB; default: "
        "NEURALAB_MAX_MEMORY, else half of this machine's memory).",
        show_default=False,
    ),
) -> None:
    """A neural-networks course made executable: compute it, check it, see it, run it."""
