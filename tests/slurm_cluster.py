"""A real single-node Slurm for the tests: munged, slurmctld and slurmd from a config in a temp dir.

Nothing system-wide is touched: munged gets its own key and socket, Slurm its own ports, state,
spool, logs and pid files, all in one temporary directory; :meth:`SlurmCluster.stop` ends the
three daemons by the pids they wrote and removes the directory. Needs Debian's ``slurm-wlm``
and ``munge`` and root (slurmd starts jobs as their user).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo", "scontrol")
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


def missing_programs() -> list[str]:
    """Return the Slurm and munge programs this machine lacks."""
    return [name for name in PROGRAMS if shutil.which(name, path=SEARCH_PATH) is None]


@dataclass
class SlurmCluster:
    """One node, one partition ``debug``, CPUs = this machine's cores; jobs run as root."""

    folder: Path
    node: str = field(default_factory=lambda: socket.gethostname().split(".")[0])

    @property
    def conf(self) -> Path:
        return self.folder / "slurm.conf"

    @property
    def environment(self) -> dict[str, str]:
        """Return os.environ with SLURM_CONF pointing at this cluster."""
        return {**os.environ, "SLURM_CONF": str(self.conf), "PATH": SEARCH_PATH}

    @classmethod
    def start(cls) -> SlurmCluster:
        folder = Path(tempfile.mkdtemp(prefix="neuralab-slurm-"))
        folder.chmod(0o755)  # munged refuses a socket in a folder others cannot traverse
        cluster = cls(folder)
        try:
            cluster._start_munge()
            cluster._write_conf()
            for daemon in ("slurmctld", "slurmd"):
                cluster._run([daemon, "-f", str(cluster.conf)])
            cluster._wait_idle()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _start_munge(self) -> None:
        munge = self.folder / "munge"
        munge.mkdir(mode=0o711)
        munge.chmod(0o711)
        key = munge / "munge.key"
        key.write_bytes(secrets.token_bytes(1024))
        key.chmod(0o400)
        self._run(
            [
                "munged",
                f"--socket={munge / 'munge.socket'}",
                f"--key-file={key}",
                f"--pid-file={munge / 'munged.pid'}",
                f"--log-file={munge / 'munged.log'}",
                f"--seed-file={munge / 'munged.seed'}",
            ]
        )

    def _write_conf(self) -> None:
        folder, (ctld_port, d_port) = self.folder, (_free_port(), _free_port())
        for name in ("state", "spool"):
            (folder / name).mkdir()
        self.conf.write_text(
            "\n".join(
                [
                    "ClusterName=neuralabtest",
                    f"SlurmctldHost={self.node}",
                    "AuthType=auth/munge",
                    "CredType=cred/munge",
                    f"AuthInfo=socket={folder / 'munge' / 'munge.socket'}",
                    "SlurmUser=root",
                    "SlurmdUser=root",
                    f"SlurmctldPort={ctld_port}",
                    f"SlurmdPort={d_port}",
                    f"StateSaveLocation={folder / 'state'}",
                    f"SlurmdSpoolDir={folder / 'spool'}",
                    f"SlurmctldPidFile={folder / 'slurmctld.pid'}",
                    f"SlurmdPidFile={folder / 'slurmd.pid'}",
                    f"SlurmctldLogFile={folder / 'slurmctld.log'}",
                    f"SlurmdLogFile={folder / 'slurmd.log'}",
                    "ProctrackType=proctrack/linuxproc",
                    "TaskPlugin=task/none",
                    "SelectType=select/cons_tres",
                    "SelectTypeParameters=CR_Core",
                    "ReturnToService=2",
                    "MpiDefault=none",
                    "KillWait=10",
                    f"NodeName={self.node} CPUs={os.cpu_count() or 1} RealMemory=8000 "
                    "State=UNKNOWN",
                    "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
                    "",
                ]
            )
        )

    def _run(self, command: list[str]) -> None:
        done = subprocess.run(
            command, env=self.environment, capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {done.stderr.strip() or done.stdout}")

    def _wait_idle(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            done = subprocess.run(
                ["sinfo", "-h", "-o", "%T"], env=self.environment, capture_output=True, text=True
            )
            state = done.stdout.strip()
            if state == "idle":
                return
            time.sleep(0.5)
        raise RuntimeError(f"the Slurm node is {state or 'not reporting'} after {timeout:.0f} s")

    # -- jobs ------------------------------------------------------------------------------------
    def squeue(self, job_id: str) -> list[str]:
        """Return the states of the job's (or its array tasks') entries still in the queue."""
        done = subprocess.run(
            ["squeue", "-h", "-j", job_id, "-o", "%i %T"],
            env=self.environment,
            capture_output=True,
            text=True,
        )
        return [line for line in done.stdout.splitlines() if line.strip()]

    def wait(self, *job_ids: str, timeout: float = 300.0) -> None:
        """Wait until the jobs have left the queue (done, failed or cancelled)."""
        deadline = time.monotonic() + timeout
        while any(self.squeue(job) for job in job_ids):
            if time.monotonic() > deadline:
                raise TimeoutError(f"jobs {job_ids} still queued after {timeout:.0f} s")
            time.sleep(0.5)

    def scancel(self, job_id: str) -> None:
        subprocess.run(["scancel", job_id], env=self.environment, check=True)

    def stop(self) -> None:
        """Cancel every job, stop slurmd, slurmctld and munged by their pids, remove the folder."""
        if (self.folder / "slurmctld.pid").is_file():
            subprocess.run(["scancel", "--user=root"], env=self.environment, capture_output=True)
        for pid_file in ("slurmd.pid", "slurmctld.pid", "munge/munged.pid"):
            _stop_pid(self.folder / pid_file)
        shutil.rmtree(self.folder, ignore_errors=True)


def _stop_pid(pid_file: Path, timeout: float = 15.0) -> None:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("", 0))
        return int(probe.getsockname()[1])
