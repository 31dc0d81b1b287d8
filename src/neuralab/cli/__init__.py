"""The ``neuralab`` command line: thin typer commands over the library.

Each command module (``neuralab.cli.<topic>``) registers its commands on the shared typer ``app``
when imported, and imports the library (and torch) only inside the command, so ``--help`` stays
fast. Library errors (:class:`neuralab.errors.NeuralabError`) and usage errors become one line on
stderr and exit code 2; no traceback reaches a user for bad input.
"""

from __future__ import annotations

import importlib
import sys

import typer

from neuralab.cli._app import app
from neuralab.console import print_error
from neuralab.errors import NeuralabError

__all__ = ["app", "main"]

# Command modules, in the order `neuralab --help` lists them: importing one registers its
# commands on ``app`` (each imports torch only inside its commands).
COMMAND_MODULES = (
    "arch",  # summary, diagram
    "conv_matrix",  # conv-matrix
    "pooling",  # pool, padding
    "activations",  # activations
    "logic",  # logic eval / search
    "gradients",  # gradients
    "perceptron",  # perceptron fit / scale / sigmoid-limit
    "claims",  # sam-step, softmax, receptive-field, translation, perceptron sigmoid-cases
    "playground",  # playground
    "experiment",  # experiment
    "train",  # train, evaluate, predict
    "export",  # export (onnx, torchscript, safetensors)
    "sweep",  # sweep, sweep worker, sweep report
    "study",  # study
    "slurm",  # slurm train / sweep / study
    "serve",  # serve (the playground in the browser)
)
for _module in COMMAND_MODULES:
    importlib.import_module(f"neuralab.cli.{_module}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="neuralab", standalone_mode=False)
    except typer.Exit as stop:
        return stop.exit_code
    except typer.TyperException as error:  # usage errors: unknown command, bad option value
        if type(error).__name__ == "NoArgsIsHelpError":
            print(error.format_message())
            return 0
        hint = ""
        context = getattr(error, "ctx", None)
        if context is not None:
            hint = f" (see '{context.command_path} --help')"
        print_error(error.format_message() + hint)
        return 2 if error.exit_code == 2 else error.exit_code
    except (typer.Abort, KeyboardInterrupt):
        print_error("interrupted")
        return 130
    except NeuralabError as error:
        print_error(str(error))
        return 2
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
