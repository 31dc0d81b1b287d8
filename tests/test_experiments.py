"""Tests of the course's experiments: the measured numbers support each conclusion (quick sizes).

Each test asserts the numbers, not the sentence: gradients exactly zero, identical units, the
poor initialization's loss above the proper one's, a straight identity fit, and so on.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from neuralab.errors import NeuralabError
from neuralab.playground.experiments import (
    list_experiments,
    make_experiment_config,
    run_experiment,
)
from neuralab.playground.experiments.activation_fit import count_kinks, slope_changes
from neuralab.playground.experiments.gd_variants import (
    W_BARRIER,
    W_GLOBAL,
    W_LOCAL,
    GDVariantsConfig,
    escape_1d,
)

EXPERIMENTS = [
    "activation-fit",
    "gd-variants",
    "initialization",
    "regularization",
    "shuffling",
    "vanishing-gradients",
    "zero-init",
]


def _check_figures(result, names):
    """The run directory holds the named figures, linked from report.md."""
    assert [figure.name for figure in result.figures] == names
    report = (result.run_dir / "report.md").read_text()
    for figure in result.figures:
        assert figure.is_file() and f"(figures/{figure.name})" in report


def test_list_experiments():
    assert list_experiments() == EXPERIMENTS


def test_config_layers_quick_seeds_and_overrides():
    config = make_experiment_config("shuffling", quick=True, seeds=7, overrides={"lr": "0.5"})
    assert config.seeds == 7 and config.lr == 0.5 and config.epochs == 5
    assert make_experiment_config("shuffling").epochs == 10
    with pytest.raises(NeuralabError, match="single seed"):
        make_experiment_config("zero-init", seeds=3)
    with pytest.raises(NeuralabError, match="ShufflingConfig field"):
        make_experiment_config("shuffling", overrides={"bogus": 1})
    with pytest.raises(NeuralabError, match="seeds=0"):
        make_experiment_config("shuffling", seeds=0)


# -- 1. initialization -----------------------------------------------------------------------
def test_initialization_poor_init_stalls(tmp_path):
    result = run_experiment("initialization", quick=True, run_dir=tmp_path)  # 2 seeds
    final, start = result.measurements["final_loss"], result.measurements["initial_loss"]
    for activation in ("relu", "sigmoid"):
        poor, proper = final[f"{activation}/small"], final[f"{activation}/appropriate"]
        assert poor > proper + 0.05
        assert poor > 0.95 * start[f"{activation}/small"]  # hardly moved from ln 2
        assert start[f"{activation}/small"] == pytest.approx(0.693, abs=0.01)
    assert result.holds
    _check_figures(result, ["experiment-initialization.png"])


# -- 2. zero-init ----------------------------------------------------------------------------
def test_zero_relu_weights_get_exactly_zero_gradient_in_pytorch():
    # the judge: plain PyTorch, no neuralab code
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1))
    for layer in model[::2]:
        nn.init.zeros_(layer.weight)
        nn.init.zeros_(layer.bias)
    x, t = torch.randn(32, 2), torch.randint(0, 2, (32, 1)).float()
    nn.functional.binary_cross_entropy_with_logits(model(x), t).backward()
    assert all(float(layer.weight.grad.abs().max()) == 0.0 for layer in model[::2])
    assert float(model[4].bias.grad.abs()) > 0  # only the output bias can move


@pytest.mark.parametrize("seed", [0, 1])
def test_zero_init_symmetry_and_zero_gradients(seed, tmp_path):
    result = run_experiment("zero-init", quick=True, overrides={"seed": seed}, run_dir=tmp_path)
    constant, zero, zero_bias, he, he_bias = result.tables[0].rows
    assert constant["symmetric_every_epoch"] and constant["unit_spread"] <= 1e-6
    assert constant["max_weight_grad_at_init"] > 0  # the units learn, but all alike
    assert zero["max_weight_grad_at_init"] == 0.0 and zero["weight_norm_end"] == 0.0
    assert zero["active_at_init"] == 0.0 and zero_bias["active_at_init"] == 1.0
    assert zero_bias["symmetric_every_epoch"]
    assert not he["symmetric_every_epoch"] and 0.2 < he["active_at_init"] < 0.8
    assert he_bias["active_at_init"] >= he["active_at_init"]
    assert result.holds
    _check_figures(result, ["experiment-zero-init.png"])


# -- 3. shuffling ----------------------------------------------------------------------------
def test_sorted_data_ends_worse_than_shuffled(tmp_path):
    result = run_experiment("shuffling", quick=True, run_dir=tmp_path)  # 4 seeds
    sorted_row, shuffled_row = result.tables[0].rows
    assert sorted_row["test_acc"] < shuffled_row["test_acc"] - 0.1
    assert sorted_row["train_loss"] > shuffled_row["train_loss"]
    assert sorted_row["seeds"] == shuffled_row["seeds"] == 4
    # a dead ReLU is a whole unit: the fraction of 2 x 8 units, averaged over 4 seeds, is k / 64
    for row in (sorted_row, shuffled_row):
        assert row["dead"] * 64 == pytest.approx(round(row["dead"] * 64), abs=1e-9)
    # the mechanism over time: the sorted run predicts the class it saw last
    assert (
        result.measurements["recency"]["sorted"] > 0.8 > result.measurements["recency"]["shuffled"]
    )
    _check_figures(result, ["experiment-shuffling.png", "experiment-shuffling-trace.png"])


# -- 4. gd-variants --------------------------------------------------------------------------
def test_stationary_points_of_the_1d_loss():
    for w in (W_GLOBAL, W_BARRIER, W_LOCAL):
        assert 4 * w**3 - 6 * w + 1 == pytest.approx(0.0, abs=1e-12)
    assert W_GLOBAL < W_BARRIER < W_LOCAL


def test_full_batch_gd_stays_in_the_local_minimum_sgd_escapes():
    config = GDVariantsConfig(steps_1d=1000, seeds=100)
    full = escape_1d(config, config.samples)
    assert full["crossed"] == 0.0
    assert torch.allclose(full["final_w"], torch.tensor(W_LOCAL, dtype=torch.float64))
    sgd = escape_1d(config, 1)
    assert sgd["crossed"] > 0.3 and sgd["ended_global"] > 0.2


def test_gd_variants_experiment(tmp_path):
    result = run_experiment("gd-variants", quick=True, run_dir=tmp_path)
    full, sgd, mini = result.tables[0].rows
    assert full["gradient_evaluations"] == sgd["gradient_evaluations"]  # the same epochs
    assert sgd["updates"] == 50 * full["updates"] and mini["updates"] == 5 * full["updates"]
    assert sgd["train_loss"] < mini["train_loss"] < full["train_loss"]
    assert full["crossed"] == 0.0 and sgd["crossed"] > mini["crossed"]
    # part 3: every variant reached the target loss; per epoch GD needs hundreds, SGD a few
    scaling = {(r["n"], r["variant"]): r for r in result.tables[1].rows}
    for n in (200, 20000):
        gd, one = scaling[(n, "full batch (GD)")], scaling[(n, "SGD (b=1)")]
        assert gd["reached"] and one["reached"]
        assert gd["epochs"] > 100 > 10 > one["epochs"]
        assert gd["gradient_evaluations"] == gd["epochs"] * n // 2 == gd["updates"] * n // 2
    assert scaling[(20000, "SGD (b=1)")]["epochs"] < 0.1  # on more data, a fraction of a pass
    _check_figures(
        result,
        [
            "experiment-gd-variants-loss.png",
            "experiment-gd-variants-escape.png",
            "experiment-gd-variants-scaling.png",
        ],
    )


# -- 5. activation-fit -----------------------------------------------------------------------
def test_kink_counting_on_hand_made_functions():
    x = torch.linspace(-1, 1, 2001, dtype=torch.float64)
    h = 2 / 2000
    assert float(slope_changes(3 * x + 1, h).abs().max()) < 1e-9
    assert count_kinks(slope_changes(x.abs(), h), 0.01) == 1  # |x|: one kink, slope -1 -> 1
    hinge = torch.relu(x - 0.3001) - 2 * torch.relu(x + 0.5)
    assert count_kinks(slope_changes(hinge, h), 0.01) == 2
    assert count_kinks(slope_changes(torch.sigmoid(4 * x), h), 0.01) == 0


@pytest.mark.parametrize("seed", [0, 1])
def test_activation_fit_shapes(seed, tmp_path):
    result = run_experiment(
        "activation-fit", quick=True, overrides={"seed": seed}, run_dir=tmp_path
    )
    fits = result.measurements["by_activation"]
    assert fits["identity"]["max_slope_change"] < 1e-6  # a straight line
    relu = fits["relu"]
    assert 1 <= relu["grid_kinks"] <= relu["units_inside"] <= 20
    assert fits["sigmoid"]["grid_kinks"] == 0
    # the nonlinear fits follow the curve far better than the line
    assert fits["relu"]["train_mse"] < 0.5 * fits["identity"]["train_mse"]
    assert result.holds
    _check_figures(result, ["experiment-activation-fit.png"])


# -- 6. vanishing gradients ------------------------------------------------------------------
def test_sigmoid_gradient_vanishes_in_deep_network():
    result = run_experiment("vanishing-gradients", quick=True)  # 3 seeds
    ratios = result.measurements["ratios"]
    assert ratios["sigmoid"] < 1e-3
    assert ratios["sigmoid"] < 1e-2 * ratios["tanh"] and ratios["sigmoid"] < 1e-2 * ratios["relu"]
    # tanh (f'(0) = 1) does not vanish with Xavier init: the course's claim fails for it
    assert ratios["tanh"] > 1e-2 and not result.holds
    assert result.measurements["max_slope"]["sigmoid"] == pytest.approx(0.25)
    norms = result.measurements["norms"]["sigmoid"]
    assert len(norms) == 11 and norms[0] < norms[5] < norms[-1]


# -- 7. regularization -----------------------------------------------------------------------
def test_regularization_lowers_test_loss(tmp_path):
    result = run_experiment("regularization", quick=True, run_dir=tmp_path)  # 2 seeds
    none, l2, dropout = (result.measurements[k] for k in ("none", "l2", "dropout"))
    assert none["train_loss"] < 0.1 < none["test_loss"]  # over-fitted
    assert l2["test_loss"] < none["test_loss"] and dropout["test_loss"] < none["test_loss"]
    assert l2["train_loss"] > none["train_loss"]
    assert result.holds
    _check_figures(result, ["experiment-regularization.png"])


# -- run directory and command line ----------------------------------------------------------
def test_cli_writes_run_directory(run_cli, tmp_path):
    folder = tmp_path / "vg"
    result = run_cli("experiment", "vanishing-gradients", "--quick", "--run-dir", folder)
    assert result.exit_code == 0, result.stderr
    assert "conclusion (does NOT hold)" in result.stdout and "sigmoid" in result.stdout
    for name in ("config.yaml", "results.csv", "results.md", "report.md", "report.html"):
        assert (folder / name).is_file()
    figure = folder / "figures" / "experiment-vanishing-gradients.png"
    assert figure.is_file() and str(figure) in result.stdout.replace("\n", "")
    assert (folder / "results.csv").read_text().startswith("activation,first,middle,last,ratio")
    assert "![experiment-vanishing-gradients]" in (folder / "report.md").read_text()


def test_cli_json_and_set(run_cli, tmp_path):
    result = run_cli(
        "experiment",
        "vanishing-gradients",
        "--quick",
        "--set",
        "depth=4",
        "--set",
        "activations=tanh,sigmoid",
        "--format",
        "json",
        "--run-dir",
        tmp_path,
    )
    assert result.exit_code == 0, result.stderr
    [table] = result.tables()
    assert [row["activation"] for row in table["rows"]] == ["tanh", "sigmoid"]
    assert table["notes"][0].startswith("conclusion (")
    assert table["notes"][-1].startswith(f"report: {tmp_path / 'report.md'} and report.html (")
    assert "depth: 4" in (tmp_path / "config.yaml").read_text()


def test_cli_list(run_cli):
    for args in (("experiment", "--list"), ("experiment", "list")):
        result = run_cli(*args)
        assert result.exit_code == 0
        for name in EXPERIMENTS:
            assert name in result.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("experiment", "initialisation"), "did you mean 'initialization'"),
        (("experiment", "zero-init", "--seeds", "3"), "single seed"),
        (("experiment", "shuffling", "--set", "bogus=1"), "unknown ShufflingConfig field"),
        (("experiment", "shuffling", "--set", "lr=fast"), "lr='fast' is not a number"),
        (("experiment", "shuffling", "--set", "lr"), "not of the form field=value"),
        (("experiment", "shuffling", "--format", "xml"), "'xml' is not one of table, json"),
    ],
)
def test_cli_bad_input(run_cli, tmp_path, args, fragment):
    result = run_cli(*args, "--run-dir", tmp_path)
    assert result.exit_code == 2
    assert fragment in result.stderr and "Traceback" not in result.stderr


def test_wrong_config_type_is_refused():
    with pytest.raises(NeuralabError, match="needs a ShufflingConfig"):
        run_experiment("shuffling", GDVariantsConfig())


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_full_size_conclusions_hold(name, tmp_path):
    result = run_experiment(name, run_dir=tmp_path)
    assert result.holds, result.conclusion
    assert result.figures and all(f.is_file() for f in result.figures)
