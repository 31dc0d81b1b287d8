"""Slurm batch scripts as text: the ``#SBATCH`` header of :class:`SlurmOptions`, then commands.

A batch script is a shell script whose ``#SBATCH`` comment lines are sbatch's options; the job's
standard output goes to ``--output`` (``%x-%j.out`` by default: job name and job id), which for
a training job is the per-epoch table the course asks students to hand in. Everything here is
pure text, so ``--dry-run`` prints exactly what would be submitted.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from neuralab.config import option
from neuralab.errors import NeuralabError

# sbatch's --time formats: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS
_TIME = re.compile(r"^(\d+-)?\d+(:\d{1,2}){0,2}$")
# sbatch's --mem: a number with an optional unit (K, M, G, T), megabytes without
_MEMORY = re.compile(r"^\d+[KMGT]?$", re.IGNORECASE)
_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")


_SLURM = "Slurm"
DEFAULT_OUTPUT = "%x-%j.out"  # a job's output file: job name and job id
ARRAY_OUTPUT = "%x-%A_%a.out"  # an array task's: job name, the array's id and the task's


@dataclass
class SlurmOptions:
    """What a job asks Slurm for (each field one ``#SBATCH`` line when set)."""

    job_name: str = option(
        "neuralab", help="Job name: %x in file names, what squeue shows", group=_SLURM
    )
    partition: str | None = option(
        None, help="Partition (queue) to run in (none: the cluster's default)", group=_SLURM
    )
    nodes: int = option(1, help="Machines; training runs one torchrun on each", group=_SLURM)
    gpus_per_node: int = option(
        0, help="GPUs per node, one training process each (0: a CPU job)", group=_SLURM
    )
    cpus_per_task: int = option(1, help="CPU cores per node (one task per node)", group=_SLURM)
    time: str | None = option(
        None, help="Time limit, e.g. 01:30:00 or 2-00:00:00 (none: the default)", group=_SLURM
    )
    mem: str | None = option(
        None, help="Memory per node, e.g. 16G (none: the default)", group=_SLURM
    )
    account: str | None = option(None, help="Account the hours are charged to", group=_SLURM)
    output: str = option(
        DEFAULT_OUTPUT,
        help="The job's output file: %x job name, %j job id, %A array id, %a task",
        group=_SLURM,
    )
    array: str | None = None  # --array: task ids of a job array, e.g. 0-49 or 0-49%10
    extra: list[str] = field(default_factory=list)  # more #SBATCH lines, e.g. "--qos=short"
    setup: list[str] = field(default_factory=list)  # shell lines run first, e.g. "module load cuda"

    def __post_init__(self) -> None:
        checks = [
            (
                bool(_NAME.match(self.job_name)),
                f"job name {self.job_name!r}: use letters, digits, _ . + -",
            ),
            (self.nodes >= 1, f"--nodes must be >= 1, got {self.nodes}"),
            (self.gpus_per_node >= 0, f"--gpus-per-node must be >= 0, got {self.gpus_per_node}"),
            (self.cpus_per_task >= 1, f"--cpus-per-task must be >= 1, got {self.cpus_per_task}"),
            (
                self.time is None or bool(_TIME.match(self.time)),
                f"--time {self.time!r} is not a Slurm time (minutes, HH:MM:SS or D-HH:MM:SS)",
            ),
            (
                self.mem is None or bool(_MEMORY.match(self.mem)),
                f"--mem {self.mem!r} is not a Slurm size (e.g. 16G or 8000M)",
            ),
            (
                self.partition is None or bool(_NAME.match(self.partition)),
                f"--partition {self.partition!r}: use letters, digits, _ . + -",
            ),
            (
                self.account is None or bool(_NAME.match(self.account)),
                f"--account {self.account!r}: use letters, digits, _ . + -",
            ),
            (bool(self.output) and "\n" not in self.output, "--output needs a file name"),
        ]
        # "qos=short" and "--qos=short" both mean the line "#SBATCH --qos=short"
        self.extra = [line if line.startswith("-") else f"--{line}" for line in self.extra]
        for line in self.extra:
            checks.append(
                (
                    bool(re.match(r"^--?[A-Za-z]", line)) and "\n" not in line,
                    f"#SBATCH line {line!r} must be one sbatch option, e.g. --qos=short",
                )
            )
        for line in self.setup:
            checks.append(("\n" not in line, f"setup line {line!r} must be one line"))
        for ok, message in checks:
            if not ok:
                raise NeuralabError(message)

    def header(self) -> list[str]:
        """Return the ``#SBATCH`` lines of these options (one task per node)."""
        options = [
            f"--job-name={self.job_name}",
            f"--output={self.output}",
            f"--nodes={self.nodes}",
            "--ntasks-per-node=1",
            f"--cpus-per-task={self.cpus_per_task}",
        ]
        if self.gpus_per_node:
            options.append(f"--gpus-per-node={self.gpus_per_node}")
        for flag, value in (
            ("partition", self.partition),
            ("time", self.time),
            ("mem", self.mem),
            ("account", self.account),
            ("array", self.array),
        ):
            if value is not None:
                options.append(f"--{flag}={value}")
        options.extend(self.extra)
        return [f"#SBATCH {option}" for option in options]


def batch_script(options: SlurmOptions, comment: str, body: Sequence[str]) -> str:
    """Return the batch script: shebang, ``#SBATCH`` header, a comment, ``set -eu``, the
    site's setup lines (``module load ...``), then ``body``."""
    lines = ["#!/bin/bash", *options.header(), ""]
    lines += [f"# {line}" if line else "#" for line in comment.splitlines()]
    lines += ["set -eu"]
    if options.setup:
        lines += ["# this site's setup", *options.setup]
    lines += body
    return "\n".join(lines) + "\n"


# sbatch's file name patterns: %x, %j, %A, %a, %u, %N, ..., with an optional width (%4a)
_PATTERN = re.compile(r"%(\d*)([A-Za-z%])")


def output_file(pattern: str, job_name: str, job_id: str, *, array: bool = False) -> Path:
    """Return the path of a submitted job's output file: ``pattern`` with what is known filled in.

    sbatch's ``--output`` pattern: %x the job name, %j the job id, %A the array's job id, %u
    the user, %% a percent sign; what each array task or node fills in itself (%a the task,
    an array task's own %j, %N the node, ...) is shown as ``*``, so the path is a shell
    pattern for all of them. A relative path is relative to the directory sbatch ran in.
    """
    import getpass

    known = {"x": job_name, "A": job_id, "%": "%", "u": getpass.getuser()}
    if not array:
        known["j"] = job_id

    def fill(match: re.Match[str]) -> str:
        width, letter = match.group(1), match.group(2)
        value = known.get(letter, "*")
        return value.zfill(int(width)) if width and value.isdigit() else value

    return Path.cwd() / _PATTERN.sub(fill, pattern)


def shell_words(words: Sequence[str]) -> str:
    """Return ``words`` as one shell command line, each quoted where it needs to be."""
    return " ".join(shlex.quote(str(word)) for word in words)
