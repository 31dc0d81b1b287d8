"""Every experiment's sentence agrees with its own table: re-derived here from the table rows.

Each experiment runs once at its ``--quick`` size; for each, the test recomputes from the rows
of the table (not from the experiment's measurements) what the sentence must say about every row
it summarises, and checks the verdict: a sentence that says NOT is never tagged as holding, and
one tagged as not holding says NOT somewhere.
"""

from __future__ import annotations

import math

import pytest

from neuralab.playground.experiments import list_experiments, run_experiment
from neuralab.playground.experiments.gd_scaling import BATCHES, TIE_FACTOR
from neuralab.playground.experiments.initialization import ACCURACY_MARGIN, LOSS_MARGIN
from neuralab.playground.experiments.regularization import (
    OVERFIT_ERROR_GAP,
    OVERFIT_LOSS_RATIO,
)
from neuralab.playground.experiments.vanishing_gradients import SATURATING, VANISHES

RESULTS: dict[str, object] = {}


def _result(name):
    if name not in RESULTS:
        RESULTS[name] = run_experiment(name, quick=True)
    return RESULTS[name]


@pytest.mark.parametrize("name", list_experiments())
def test_not_means_not_holding(name):
    result = _result(name)
    assert ("NOT" in result.conclusion) == (result.holds is False), result.conclusion


def test_initialization_judges_every_poor_row():
    result = _result("initialization")
    rows = result.tables[0].rows
    verdicts = []
    for row in rows:
        proper = next(
            r for r in rows if r["activation"] == row["activation"] and r["scheme"] == "appropriate"
        )
        if row is proper:
            continue
        behind = (
            row["final_loss"] > proper["final_loss"] + LOSS_MARGIN
            or row["test_acc"] < proper["test_acc"] - ACCURACY_MARGIN
        )
        stalls = behind and row["final_loss"] > 0.8 * row["initial_loss"]
        verdict = "it stalls" if stalls else "it fails" if behind else "it does NOT fail"
        verdicts.append(verdict)
        text = (
            f"{row['scheme']} (s={row['s']:g}) goes from loss {row['initial_loss']:.3g} to "
            f"{row['final_loss']:.3f}, test acc {row['test_acc']:.3f} ({verdict})"
        )
        assert text in result.conclusion
    assert len(verdicts) == 4  # small and large, for relu and sigmoid: the large rows included
    # the thresholds behind "stalls" and "fails" are stated beside the table
    (rule,) = result.tables[0].notes
    assert f"over {LOSS_MARGIN:g} above" in rule and f"over {ACCURACY_MARGIN:g} below" in rule
    assert result.holds == ("it does NOT fail" not in verdicts)


def test_zero_init_sentence_quotes_its_rows():
    result = _result("zero-init")
    constant, zero, zero_bias = result.tables[0].rows[:3]
    assert f"largest difference {constant['unit_spread']:.1e}" in result.conclusion
    assert f"largest weight gradient is {zero['max_weight_grad_at_init']:g}" in result.conclusion
    assert (
        f"{zero_bias['active_at_init']:.0%} of the ReLUs active at the start instead of "
        f"{zero['active_at_init']:.0%}" in result.conclusion
    )


def test_shuffling_sentence_uses_both_tables():
    result = _result("shuffling")
    ordered, shuffled = result.tables[0].rows
    seeds = ordered["seeds"]
    error = math.sqrt((ordered["dead_std"] ** 2 + shuffled["dead_std"] ** 2) / seeds)
    difference = ordered["dead"] - shuffled["dead"]
    more_dead = difference > 2 * error
    # the difference is shown beside its noise, so "6.2% vs 1.6% ... NOT more" reads right
    assert (
        f"with {ordered['dead']:.1%} vs {shuffled['dead']:.1%} dead ReLUs (a difference of "
        f"{difference * 100:+.1f} points, "
        + ("beyond" if more_dead else "within")
        + f" two standard errors ({2 * error * 100:.1f}): "
        + ("more" if more_dead else "NOT more")
        + " dead units when sorted)"
    ) in result.conclusion
    search = result.tables[1].rows
    if not any(row["kills"] for row in search):
        assert f"in none of the {len(search)} settings searched" in result.conclusion
    assert result.holds == (ordered["test_acc"] < shuffled["test_acc"] and more_dead)
    assert "recency" in result.conclusion  # what does hurt is said, either way


def test_gd_variants_sentence_covers_every_size():
    result = _result("gd-variants")
    full, sgd, mini = result.tables[0].rows
    per_epoch = sgd["train_loss"] < full["train_loss"] and mini["train_loss"] < full["train_loss"]
    assert f"SGD reaches training loss {sgd['train_loss']:.3f}" in result.conclusion
    assert ("more progress per epoch" in result.conclusion) == per_epoch
    scaling = {(r["n"], r["variant"]): r for r in result.tables[1].rows}
    sizes = sorted({n for n, _ in scaling})
    for n in sizes:
        gd, sg = scaling[(n, BATCHES[0][0])], scaling[(n, BATCHES[1][0])]
        assert sg["reached"]
        if not gd["reached"] or gd["seconds"] > TIE_FACTOR * sg["seconds"]:
            verdict = "faster"
        elif sg["seconds"] > TIE_FACTOR * gd["seconds"]:
            verdict = "slower"
        else:
            verdict = "as fast"
        assert f"n={n}: SGD {sg['epochs']:.3g} epochs / {sg['seconds']:.2f} s" in result.conclusion
        assert f"(SGD {verdict} per second)" in result.conclusion


def test_activation_fit_sentence_quotes_its_rows():
    result = _result("activation-fit")
    rows = {r["activation"]: r for r in result.tables[0].rows}
    assert f"with {rows['relu']['grid_kinks']} kinks on the grid" in result.conclusion
    assert f"sigmoid is smooth ({rows['sigmoid']['grid_kinks']} kinks" in result.conclusion


def test_vanishing_gradients_sentence_judges_every_activation():
    result = _result("vanishing-gradients")
    rows = result.tables[0].rows
    holds = True
    for row in rows:
        vanishes = row["ratio"] < VANISHES
        expected = row["activation"] in SATURATING
        holds = holds and vanishes == expected
        assert f"{row['activation']} {row['ratio']:.1e} (max f'" in result.conclusion
        words = "vanishes" if vanishes else "does not vanish"
        if vanishes != expected:
            words = "does NOT vanish" if expected else "vanishes, NOT expected"
        assert f"{words})" in result.conclusion.split(row["activation"] + " ", 1)[1]
    assert {row["activation"] for row in rows} == {"sigmoid", "tanh", "relu"}
    assert result.holds == holds


def test_regularization_states_overfitting_from_its_table():
    result = _result("regularization")
    none, l2, dropout = result.tables[0].rows
    overfits = (
        none["test_loss"] >= OVERFIT_LOSS_RATIO * none["train_loss"]
        and none["test_error"] - none["train_error"] >= OVERFIT_ERROR_GAP
    )
    verb = "overfits" if overfits else "does NOT overfit"
    assert result.conclusion.startswith(f"without regularization the network {verb}: ")
    assert f"train loss {none['train_loss']:.3f} vs test loss {none['test_loss']:.3f}" in (
        result.conclusion
    )
    assert result.tables[0].notes[0].startswith(f"Without regularization the network {verb}")
    helps = l2["test_loss"] < none["test_loss"] and dropout["test_loss"] < none["test_loss"]
    assert result.holds == (overfits and helps)
