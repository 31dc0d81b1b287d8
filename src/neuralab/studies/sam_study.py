"""SAM vs SGD: the same model and budget; test accuracy and how sharp each minimum is.

Three optimisers (SGD with momentum; SAM with rho = 0.05; ASAM, the adaptive form, with its
usual larger rho) train the same CNN for the same epochs. At each final weights w (best.pt,
chosen on validation) the study measures, on fixed training batches:

- ball sharpness: max over ||delta|| <= rho of L(w + delta) - L(w), by projected gradient ascent;
- lambda_max, the largest Hessian eigenvalue, by power iteration on Hessian-vector products;
- the 1-D loss profile L(w + alpha d) along a random filter-normalised direction d.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neuralab.config import option
from neuralab.report.result import ExperimentResult
from neuralab.report.tabular import Column, Table

_STUDY = "Study settings"


@dataclass
class SamStudyConfig:
    """The SAM study's setting (defaults: the course's)."""

    data: str = option(
        "gtsrb", help="Data set (offline: npz:../shared/datasets/gtsrb/gtsrb-32.npz)", group=_STUDY
    )
    data_dir: str = option("data", help="Where torchvision data sets live", group=_STUDY)
    model: str = option("cnn", help="The model every optimiser trains", group=_STUDY)
    epochs: int = option(10, help="The same budget for every optimiser", group=_STUDY)
    batch_size: int = option(64, help="Images per step", group=_STUDY)
    lr: float = option(0.05, help="SGD learning rate (the base optimiser of SAM too)", group=_STUDY)
    rho: float = option(
        0.05, help="SAM's radius; also the radius of the ball sharpness", group=_STUDY
    )
    asam_rho: float = option(
        0.5,
        help="ASAM's radius (its ball is scaled by |w|: larger rho, as in Kwon et al.)",
        group=_STUDY,
    )
    sharpness_batches: int = option(
        8, help="Training batches the sharpness is measured on", group=_STUDY
    )
    sharpness_batch_size: int = option(128, help="Images per sharpness batch", group=_STUDY)
    ascent_steps: int = option(10, help="Projected gradient ascent steps", group=_STUDY)
    power_iterations: int = option(20, help="Hessian power iterations", group=_STUDY)
    profile_points: int = option(
        21, help="Points of the loss profile, alpha in [-1, 1]", group=_STUDY
    )
    seed: int = option(0, help="Seed of every run and of the random direction", group=_STUDY)


QUICK = {
    "data": "digits",
    "epochs": 3,
    "sharpness_batches": 2,
    "sharpness_batch_size": 128,
    "ascent_steps": 5,
    "power_iterations": 10,
    "profile_points": 11,
    "batch_size": 16,
}


def run_sam_study(config: SamStudyConfig, directory: Path) -> ExperimentResult:
    """Train SGD, SAM and ASAM alike, then measure test accuracy and sharpness of each."""
    from neuralab.atomic import save_figure
    from neuralab.report.study_figures import FIGURE_DPI, loss_profile_figure
    from neuralab.studies.sharpness import (
        ball_sharpness,
        batches_loss,
        loss_profile,
        top_hessian_eigenvalue,
    )
    from neuralab.studies.training import train_variant, training_batches
    from neuralab.vision.inference import load_trained_run

    base = {
        "data": config.data,
        "data_dir": config.data_dir,
        "model": config.model,
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "optimizer": "sgd",
        "lr": config.lr,
        "momentum": 0.9,
        "schedule": "cosine",
        "seed": config.seed,
    }
    variants = {
        "sgd": {},
        "sam": {"sam": True, "rho": config.rho},
        "asam": {"sam": True, "adaptive": True, "rho": config.asam_rho},
    }
    alphas = [-1 + 2 * i / (config.profile_points - 1) for i in range(config.profile_points)]
    rows: list[dict[str, Any]] = []
    profiles: dict[str, list[float]] = {}
    for name, change in variants.items():
        result = train_variant(directory, name, {**base, **change})
        run = load_trained_run(result.run_dir, which="best", device="cpu")
        model = run.model.double()
        batches = [
            (x.double(), y)
            for x, y in training_batches(
                run, batches=config.sharpness_batches, batch_size=config.sharpness_batch_size
            )
        ]
        loss_fn = batches_loss(batches)
        ball = ball_sharpness(model, loss_fn, config.rho, steps=config.ascent_steps)
        eigenvalue = top_hessian_eigenvalue(
            model, loss_fn, iterations=config.power_iterations, seed=config.seed
        )
        profiles[name] = loss_profile(model, loss_fn, alphas, seed=config.seed)
        rows.append(
            {
                "optimizer": name,
                "rho": change.get("rho"),
                "test_acc": result.test.get("acc"),
                "train_loss": ball.base_loss,
                "ball_sharpness": ball.max_increase,
                "lambda_max": eigenvalue,
                "profile_rise": max(profiles[name][0], profiles[name][-1]) - ball.base_loss,
            }
        )
    figure = save_figure(
        loss_profile_figure(alphas, profiles),
        directory / "figures" / "loss-profile.png",
        dpi=FIGURE_DPI,
    )
    sentence, flatter = sam_conclusion(config, rows)
    columns = [
        Column("optimizer", justify="left"),
        Column("rho", "rho", ".2f"),
        Column("test_acc", "test acc", ".4f"),
        Column("train_loss", "train CE at w", ".4f"),
        Column("ball_sharpness", f"max L(w+d)-L(w), |d|<={config.rho}", ".4g"),
        Column("lambda_max", "Hessian lambda_max", ".4g"),
        Column("profile_rise", "profile rise at |alpha|=1", ".4g"),
    ]
    return ExperimentResult(
        name="sam",
        title="SAM vs SGD: accuracy and sharpness of the minimum",
        tables=[Table(rows, columns, title="Same model, same budget")],
        conclusion=sentence,
        measurements={"rows": rows, "flatter": flatter, "alphas": alphas, "profiles": profiles},
        figures=[figure],
        config=config,
    )


def sam_conclusion(config: SamStudyConfig, rows: list[dict[str, Any]]) -> tuple[str, bool]:
    """Return the sentence and whether SAM's minimum is flatter than SGD's by both measures
    (lower lambda_max and lower ball sharpness), each with its change relative to SGD's in %."""
    sgd, sam = rows[0], rows[1]
    flatter = (
        sam["lambda_max"] < sgd["lambda_max"] and sam["ball_sharpness"] < sgd["ball_sharpness"]
    )

    def change(key: str) -> str:
        return f"{(sam[key] - sgd[key]) / sgd[key]:+.0%}"

    # the relative changes beside the verdict: a 2 % difference from one seed is not a 25 % one
    sentence = (
        f"SAM (rho={config.rho}) ends at lambda_max {sam['lambda_max']:.3g} and ball sharpness "
        f"{sam['ball_sharpness']:.3g}, SGD at {sgd['lambda_max']:.3g} and "
        f"{sgd['ball_sharpness']:.3g} (SAM vs SGD: lambda_max "
        f"{change('lambda_max')}, ball sharpness {change('ball_sharpness')}; one seed): "
        + (
            "SAM's minimum is flatter by both measures"
            if flatter
            else "SAM's minimum is NOT flatter by both measures here"
        )
        + f"; test accuracy {sam['test_acc']:.4f} (SAM) vs {sgd['test_acc']:.4f} (SGD), "
        f"ASAM {rows[2]['test_acc']:.4f}, same model and {config.epochs} epochs each."
    )
    return sentence, flatter
