"""The ``neuralab`` command line: thin typer commands over the library.

Each command module (``neuralab.cli.<topic>``) registers its commands on the shared typer ``app``
when imported, and imports the library (and torch) only inside the command, so ``--help`` stays
fast. Library errors (:class:`neuralab.errors.NeuralabError`) and usage errors become one line on
stderr and exit code 2; no traceback reaches a user for bad input.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import traceback

import typer

from neuralab.cli._app import app
from neuralab.console import print_error
from neuralab.errors import NeuralabError
from neuralab.limits import ENVIRONMENT_VARIABLE

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
    """Run the command line on ``argv`` (default ``sys.argv[1:]``) and return the exit code.

    Bad input (:class:`~neuralab.errors.NeuralabError`, usage errors, a file that cannot be
    read or written) is one line on stderr and exit code 2. Anything else is a bug: one line
    naming the exception and the crash report written for it (traceback and versions), exit
    code 1; ``--debug`` prints the traceback instead. ``--debug`` and ``--max-memory SIZE``
    may stand anywhere on the line.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        args, debug, max_memory = _global_options(args)
    except NeuralabError as error:
        print_error(str(error))
        return 2
    saved = os.environ.get(ENVIRONMENT_VARIABLE)
    if max_memory is not None:
        os.environ[ENVIRONMENT_VARIABLE] = max_memory  # worker processes inherit it
    try:
        return _run(args, debug=debug)
    finally:
        if max_memory is not None:
            if saved is None:
                os.environ.pop(ENVIRONMENT_VARIABLE, None)
            else:
                os.environ[ENVIRONMENT_VARIABLE] = saved


def _run(args: list[str], *, debug: bool) -> int:
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="neuralab", standalone_mode=False)
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
        _traceback_if(debug)
        print_error(str(error))
        return 2
    except BrokenPipeError:  # `neuralab ... | head`: the reader left, nothing more to say
        _silence_stdout()
        return 141
    except OSError as error:
        if error.filename is None:
            return _report_crash(error, args, debug)
        _traceback_if(debug)
        reason = error.strerror or type(error).__name__
        print_error(f"{str(error.filename)!r}: {reason}")
        return 2
    except Exception as error:  # noqa: BLE001 (the guard: no traceback reaches a user)
        return _report_crash(error, args, debug)
    return result if isinstance(result, int) else 0


def _global_options(args: list[str]) -> tuple[list[str], bool, str | None]:
    """Return ``args`` without ``--debug`` and ``--max-memory SIZE``, and their values."""
    from neuralab.limits import parse_size

    rest: list[str] = []
    debug, max_memory = False, None
    index = 0
    while index < len(args):
        token = args[index]
        if token == "--":  # everything after it is an argument
            rest.extend(args[index:])
            break
        if token == "--debug":
            debug = True
        elif token == "--max-memory" or token.startswith("--max-memory="):
            if "=" in token:
                max_memory = token.split("=", 1)[1]
            elif index + 1 < len(args):
                index += 1
                max_memory = args[index]
            else:
                raise NeuralabError("--max-memory needs a size, e.g. --max-memory 16GB")
            parse_size(max_memory)
        else:
            rest.append(token)
        index += 1
    return rest, debug, max_memory


def _report_crash(error: BaseException, args: list[str], debug: bool) -> int:
    from neuralab.cli._crash import one_line, write_crash_report

    if debug:
        traceback.print_exception(type(error), error, error.__traceback__)
    report = write_crash_report(error, args)
    where = f"the crash report is {report}" if report else "no crash report could be written"
    print_error(
        f"internal error ({one_line(error)}); {where}: please file it with the command "
        "you ran (--debug shows the traceback)"
    )
    return 1


def _traceback_if(debug: bool) -> None:
    if debug:
        traceback.print_exc()


def _silence_stdout() -> None:
    # Python flushes stdout at exit and would complain about the closed pipe a second time
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
