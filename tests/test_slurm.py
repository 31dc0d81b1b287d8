"""Slurm: the batch scripts, and jobs submitted to a real single-node Slurm started for the tests.

Locally the real-Slurm tests skip, saying why, when slurm-wlm or munge is missing; with CI=true
they must run (a Slurm that cannot be started fails them).
"""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from neuralab.cluster.batch import SlurmOptions, output_file
from neuralab.cluster.jobs import resume_job, train_job
from neuralab.cluster.submit import submit
from neuralab.cluster.sweep_array import submit_sweep, sweep_jobs, with_cluster_storage
from neuralab.config import config_to_dict
from neuralab.errors import NeuralabError
from neuralab.report.run_report import format_header, format_row
from neuralab.studies.sweep.runner import start_sweep
from neuralab.studies.sweep.spec import SweepSpec, open_sweep
from neuralab.studies.sweep.storage import open_study
from neuralab.vision.config import TrainConfig
from slurm_cluster import SEARCH_PATH, SlurmCluster, missing_programs

SRC = Path(__file__).resolve().parents[1] / "src"


def tiny(tmp_path: Path, **changes) -> TrainConfig:
    values = {
        "data": "digits",
        "data_dir": str(tmp_path / "data"),
        "widths": (8, 16),
        "epochs": 2,
        "batch_size": 100,
        "device": "cpu",
        "run_dir": str(tmp_path / "run"),
    }
    values.update(changes)
    return TrainConfig(**values)


# -- scripts -------------------------------------------------------------------------------------


def test_options_say_what_is_wrong():
    for changes, message in [
        ({"nodes": 0}, "--nodes must be >= 1"),
        ({"time": "1 hour"}, "--time '1 hour' is not a Slurm time"),
        ({"mem": "lots"}, "--mem 'lots' is not a Slurm size"),
        ({"job_name": "my job"}, "job name 'my job'"),
        ({"extra": ["=short"]}, "#SBATCH line '--=short' must be one sbatch option"),
    ]:
        with pytest.raises(NeuralabError, match=message):
            SlurmOptions(**changes)


def test_output_files_are_named_as_sbatch_names_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative --output is relative to where sbatch ran
    assert output_file("%x-%j.out", "train", "42") == tmp_path / "train-42.out"
    assert output_file("100%%-%x", "t", "5") == tmp_path / "100%-t"
    assert output_file("/scratch/%x-%8j-%N.out", "t", "42") == Path("/scratch/t-00000042-*.out")
    # an array: %A is its id; each task fills in %a and its own %j, shown as * (a glob of all)
    assert output_file("logs/%x-%A_%a.out", "sweep", "7", array=True) == (
        tmp_path / "logs" / "sweep-7_*.out"
    )
    assert output_file("%x-%j.out", "sweep", "7", array=True) == tmp_path / "sweep-*.out"


def test_a_multi_node_gpu_job_runs_srun_torchrun_with_the_rendezvous_on_node_one(tmp_path):
    options = SlurmOptions(
        job_name="gtsrb",
        partition="gpu",
        nodes=2,
        gpus_per_node=4,
        cpus_per_task=16,
        time="04:00:00",
        mem="64G",
        account="nn-course",
        extra=["--qos=normal"],
    )
    job = train_job(
        tiny(tmp_path, device="auto", batch_size=256), options, jobs_dir=tmp_path / "jobs"
    )
    lines = job.script.splitlines()
    assert lines[0] == "#!/bin/bash"
    for line in (
        "#SBATCH --job-name=gtsrb",
        "#SBATCH --output=%x-%j.out",
        "#SBATCH --nodes=2",
        "#SBATCH --ntasks-per-node=1",
        "#SBATCH --cpus-per-task=16",
        "#SBATCH --gpus-per-node=4",
        "#SBATCH --partition=gpu",
        "#SBATCH --time=04:00:00",
        "#SBATCH --mem=64G",
        "#SBATCH --account=nn-course",
        "#SBATCH --qos=normal",
        "export OMP_NUM_THREADS=4  # the task's 16 cores shared by 4 processes",
    ):
        assert line in lines, line
    assert "on 8 processes (DDP): 2 nodes x 4 GPUs," in job.script
    assert "global batch 256 (32 per process)" in job.script
    assert "srun --nodes=2 --ntasks-per-node=1 --cpus-per-task=16" in job.script
    assert "--nnodes 2 --nproc-per-node 4 --rdzv-backend c10d" in job.script
    assert '--rdzv-endpoint="$head:$port"' in job.script
    assert 'head=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)' in job.script
    (config_file,) = job.files
    assert f"--config {config_file}" in job.script
    assert f"run_dir: {tmp_path / 'run'}" in job.files[config_file]


def test_a_resume_job_continues_a_run_on_another_number_of_processes(tmp_path):
    from neuralab.vision.train import train

    train(tiny(tmp_path, epochs=1), progress=False, report=False)
    job = resume_job(
        tmp_path / "run",
        SlurmOptions(cpus_per_task=2),
        jobs_dir=tmp_path / "jobs",
        nproc=2,
        overrides={"epochs": 3},
    )
    (config_file,) = job.files
    assert "epochs: 3" in job.files[config_file]
    assert f"run_dir={tmp_path / 'run'}" in job.script
    assert 'start=(--resume "$run_dir")' in job.script  # last.pt is there: the job resumes
    with pytest.raises(NeuralabError, match="has no last.pt"):
        resume_job(tmp_path / "nothing", SlurmOptions(), jobs_dir=tmp_path / "jobs")


def test_a_job_is_refused_before_anything_is_written(tmp_path):
    jobs = tmp_path / "jobs"
    gpus, cpus = SlurmOptions(nodes=2, gpus_per_node=2), SlurmOptions(cpus_per_task=2)
    for config, options, message in [
        (tiny(tmp_path, batch_size=30, device="auto"), gpus, "30 does not divide among 4"),
        (tiny(tmp_path), SlurmOptions(cpus_per_task=1), "need --cpus-per-task >= 2"),
        (tiny(tmp_path, device="cuda"), cpus, "needs --gpus-per-node"),
        (tiny(tmp_path), gpus, "--gpus-per-node with device cpu"),
        (tiny(tmp_path, model="resnet9000"), cpus, "resnet9000"),
    ]:
        with pytest.raises(NeuralabError, match=message):
            train_job(config, options, jobs_dir=jobs, nproc=2)
    assert not jobs.exists()


def test_a_sigterm_between_ask_and_training_waits_for_the_training():
    from neuralab.studies.sweep.worker import Terminated, _Sigterm

    sigterm = _Sigterm()
    sigterm(15, None)  # after ask(), before the trial trains: nothing raised yet...
    with pytest.raises(Terminated), sigterm.training():
        pytest.fail("the block must not start")  # ...it is raised as the training starts
    armed = _Sigterm()
    with pytest.raises(Terminated), armed.training():
        armed(15, None)  # during the training: at once


def test_sigterm_gives_the_trial_in_training_back(tmp_path):
    """What scancel does to an array task, without Slurm: SIGTERM to a sweep worker."""
    directory = tmp_path / "sweep"
    directory.mkdir()
    spec = with_cluster_storage(sweep_spec(tmp_path, epochs=20), directory)
    start_sweep(spec, directory)
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH")) if p)
    worker = subprocess.Popen(
        [sys.executable, "-m", "neuralab", "sweep", "worker", str(directory)],
        env={**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not trials_by_state(directory).get("RUNNING"):
            assert worker.poll() is None and time.monotonic() < deadline, "no trial started"
            time.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        _, error = worker.communicate(timeout=60)
    finally:
        worker.kill()
    assert worker.returncode == 130, error  # stopped like Ctrl-C, not killed
    assert "SIGTERM: the trial in training goes back to the queue" in error
    states = trials_by_state(directory)
    assert states["FAIL"] == [0] and sorted(states["WAITING"]) == [0, 1, 2], states


def test_the_command_line_prints_the_scripts_it_would_submit(run_cli, tmp_path):
    result = run_cli(
        "slurm", "train", "--data", "digits", "--nproc", "2", "--cpus-per-task", "2",
        "--time", "00:10:00", "--sbatch", "qos=short", "--setup", "module load python/3.11",
        "--run-dir", tmp_path / "run", "--jobs-dir", tmp_path / "jobs", "--dry-run",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    script = result.stdout
    assert script.startswith("#!/bin/bash\n#SBATCH --job-name=train\n#SBATCH --output=%x-%j.out")
    assert "#SBATCH --qos=short" in script and "#SBATCH --time=00:10:00" in script
    assert script.index("module load python/3.11") < script.index('"$PYTHON" -m torch')
    assert "--nproc-per-node 2" in script and "global batch 32 (16 per process)" in script
    assert not (tmp_path / "jobs").exists()  # a dry run writes nothing

    sweep = run_cli(
        "slurm", "sweep", "--grid", "lr=0.001,0.01", "--tasks", "50", "--parallel", "10",
        "--sweep-dir", tmp_path / "sweep", "--dry-run",
    )  # fmt: skip
    assert sweep.exit_code == 0, sweep.stderr
    assert "#SBATCH --array=0-49%10" in sweep.stdout
    # one output file per array task; the report job's is a plain job's
    assert "#SBATCH --output=%x-%A_%a.out" in sweep.stdout
    assert "#SBATCH --job-name=sweep-report\n#SBATCH --output=%x-%j.out" in sweep.stdout
    assert f'exec "$PYTHON" -m neuralab sweep worker {tmp_path / "sweep"}' in sweep.stdout
    assert "#SBATCH --job-name=sweep-report" in sweep.stdout
    assert not (tmp_path / "sweep").exists()

    study = run_cli(
        "slurm", "study", "dropout", "--quick", "--study-dir", tmp_path / "s", "--dry-run"
    )
    assert study.exit_code == 0, study.stderr
    assert f"-m neuralab study dropout --study-dir {tmp_path / 's'} --quick" in study.stdout


def test_the_command_line_refuses_in_one_line(run_cli, tmp_path):
    jobs = ("--jobs-dir", tmp_path)
    for arguments, message in [
        (("train", "--nproc", "2", "--cpus-per-task", "2", "--batch-size", "33", *jobs), "33 does not divide"),
        (("train", "--nproc", "2", "--cpus-per-task", "1", *jobs), "--cpus-per-task >= 2"),
        (("train", "--time", "soon", *jobs), "--time 'soon' is not a Slurm time"),
        (("sweep", "--tasks", "3"), "give --grid field=values for a new sweep"),
    ]:  # fmt: skip
        result = run_cli("slurm", *arguments, "--dry-run")
        assert result.exit_code == 2, arguments
        assert result.stderr.startswith("neuralab: error: ") and message in result.stderr
        assert result.stderr.count("\n") == 1


# -- a real Slurm --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def slurm():
    """A single-node Slurm started for this module; its daemons stopped by pid afterwards."""
    missing = missing_programs()
    why = f"Slurm is not installed here ({', '.join(missing)} missing)" if missing else ""
    if not why and os.geteuid() != 0:
        why = "a test Slurm needs root (slurmd runs jobs as their user)"
    if why:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true, so the Slurm tests must run, but {why}")
        pytest.skip(why)
    cluster = SlurmCluster.start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SLURM_CONF", str(cluster.conf))
            patch.setenv("PATH", SEARCH_PATH)
            yield cluster
    finally:
        cluster.stop()


def test_a_two_process_training_job_hands_in_the_table(slurm, tmp_path):
    options = SlurmOptions(job_name="digits", cpus_per_task=2, output=str(tmp_path / "%x-%j.out"))
    job = train_job(tiny(tmp_path), options, jobs_dir=tmp_path / "jobs", nproc=2)
    job_id = submit(job)
    slurm.wait(job_id, timeout=300)

    output = (tmp_path / f"digits-{job_id}.out").read_text()
    run = tmp_path / "run"
    for name in ("config.yaml", "metrics.csv", "train.log", "last.pt", "best.pt", "report.md"):
        assert (run / name).is_file(), f"no {name}; the job's output file:\n{output}"
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in rows] == [1, 2]
    assert "on cpu x 2 processes" in output
    # the file to hand in: the header, then each epoch's train/test CE and accuracy, once
    assert output.count(format_header()) == 1
    for row in rows:
        assert output.splitlines().count(format_row(row)) == 1, format_row(row)
    assert output.count("\n    ") == 2  # no other rank printed a row
    assert "test accuracy" in output
    assert output.splitlines()[-1].startswith(f"wrote {run}/")
    # what `neuralab slurm train` prints after submitting names this very file
    output_line = f"output file {tmp_path / f'digits-{job_id}.out'} (as it runs: tail -f "
    assert any(line.startswith(output_line) for line in job.follow(job_id)), job.follow(job_id)


def sweep_spec(tmp_path: Path, epochs: int) -> SweepSpec:
    """Three learning rates of a small digits CNN, one seed each."""
    base = config_to_dict(tiny(tmp_path, epochs=epochs, batch_size=32))
    base.pop("run_dir")
    return SweepSpec(base=base, grid={"lr": [0.003, 0.01, 0.03]})


def trials_by_state(directory: Path) -> dict[str, list[int]]:
    """Return the grid points of the sweep's trials, by state (COMPLETE, FAIL, RUNNING, ...)."""
    spec = open_sweep(directory)
    found: dict[str, list[int]] = {}
    for trial in open_study(spec, directory).get_trials(deepcopy=False):
        found.setdefault(trial.state.name, []).append(trial.user_attrs.get("grid_point"))
    return found


def test_a_sweep_as_a_three_task_array_trains_every_point_once(slurm, tmp_path):
    directory = tmp_path / "sweep"
    spec = with_cluster_storage(sweep_spec(tmp_path, epochs=1), directory)
    options = SlurmOptions(job_name="sweep", output=str(tmp_path / "%x-%A_%a.out"))
    jobs = submit_sweep(spec, sweep_jobs(directory, options, tasks=3))
    slurm.wait(jobs.ids["workers"], jobs.ids["report"], timeout=400)

    assert spec.storage == f"journal:{directory.resolve()}/optuna.journal"
    states = trials_by_state(directory)
    assert sorted(states["COMPLETE"]) == [0, 1, 2], states  # every grid point exactly once
    assert set(states) == {"COMPLETE"}, states
    outputs = sorted(tmp_path.glob(f"sweep-{jobs.ids['workers']}_*.out"))
    assert len(outputs) == 3  # three workers ran (one may have found nothing left to do)
    # `neuralab slurm sweep` tells where they are: a pattern matching exactly those files
    (line,) = [line for line in jobs.follow() if line.startswith("their output files")]
    assert sorted(glob.glob(line.split(": ", 1)[1])) == [str(path) for path in outputs]
    assert (directory / "report.md").is_file()
    report = (tmp_path / f"sweep-report-{jobs.ids['report']}.out").read_text()
    assert "lr" in report and "val" in report.lower()


def test_a_cancelled_worker_gives_its_trial_back_and_it_is_rerun(slurm, tmp_path):
    directory = tmp_path / "sweep"
    spec = with_cluster_storage(sweep_spec(tmp_path, epochs=4), directory)
    options = SlurmOptions(job_name="sweep", output=str(tmp_path / "%x-%A_%a.out"))
    jobs = submit_sweep(spec, sweep_jobs(directory, options, tasks=2, report=False))
    workers = jobs.ids["workers"]
    deadline = time.monotonic() + 300
    while len(trials_by_state(directory).get("RUNNING", [])) < 2:  # both workers training
        assert slurm.squeue(workers) and time.monotonic() < deadline, "the workers never got busy"
        time.sleep(0.2)
    slurm.scancel(f"{workers}_0")  # SIGTERM to array task 0, mid-trial
    slurm.wait(workers, timeout=400)

    states = trials_by_state(directory)
    assert len(states["FAIL"]) == 1, states  # the cancelled trial...
    assert sorted(states["COMPLETE"]) == [0, 1, 2], states  # ...ran again, every point once
    assert "RUNNING" not in states and "WAITING" not in states
    cancelled = (tmp_path / f"sweep-{workers}_0.out").read_text()
    assert "SIGTERM: the trial in training goes back to the queue" in cancelled
