"""Shuffling: SGD on data sorted by class vs data reshuffled every epoch.

With batch size 1 every update follows one example. When the training set is sorted (all -1
first, then all +1) and never reshuffled, SGD first sees only one class for half an epoch and
learns "everything is -1", then only the other class and swings to "everything is +1": the
network chases the most recent examples instead of the whole set. The course adds that large,
one-sided updates push a ReLU's bias so far down that z <= 0 on every input: the unit is dead
(its gradient is zero for good).

Three measurements, each over several seeds:

1. sorted vs shuffled at the base setting: the final fraction of dead ReLUs and accuracy;
2. the search for the setting where sorted data does kill ReLUs: learning rate x width x depth,
   the dead fraction sorted vs shuffled, a difference counted only when it exceeds two standard
   errors (sqrt(s_sorted^2 / n + s_shuffled^2 / n));
3. the mechanism over time (seed 0, every ``trace_every`` updates): the dead fraction and the
   share of training points predicted as class +1; *recency* is the share predicted as the class
   the sorted order showed last, where it switches class (class -1) and at the end (class +1)
   of every epoch: 0.5 for a network that is not biased by the order, 1 for one that always predicts the
   class it saw last.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuralab.errors import NeuralabError
from neuralab.playground.experiments._base import mean_std, save
from neuralab.report.result import ExperimentResult
from neuralab.report.tabular import Column, Table

ORDERS = (("sorted, never shuffled", True), ("shuffled every epoch", False))

if TYPE_CHECKING:
    from neuralab.playground.config import PlaygroundConfig


@dataclass
class ShufflingConfig:
    """The same ReLU network and SGD (batch 1) on sorted vs reshuffled data, over seeds."""

    data: str = "circle"  # toy data set
    n: int = 200  # examples (half for training)
    hidden: tuple[int, ...] = (8, 8)  # hidden layer sizes (ReLU)
    output: str = "tanh"  # output activation; tanh with mse on -1/+1 as in TF Playground
    loss: str = "mse"  # loss
    init: str = "he_normal"  # weight initialization
    lr: float = 0.03  # learning rate of SGD
    epochs: int = 10  # passes over the training set
    seeds: int = 5  # repetitions (data, initialization)
    search_lrs: tuple[float, ...] = (0.03, 0.1, 0.3)  # learning rates searched for dead ReLUs
    search_widths: tuple[int, ...] = (4, 8)  # units per hidden layer searched
    search_depths: tuple[int, ...] = (2, 4)  # hidden layers searched
    trace_every: int = 10  # updates between two points of the mechanism trace


def quick(config: ShufflingConfig) -> ShufflingConfig:
    """Return the config at small sizes."""
    return dataclasses.replace(
        config,
        n=min(config.n, 100),
        epochs=min(config.epochs, 5),
        seeds=min(config.seeds, 4),
        search_lrs=config.search_lrs[::2],
    )


def playground_config(
    config: ShufflingConfig,
    sorted_data: bool,
    seed: int = 0,
    *,
    lr: float | None = None,
    hidden: tuple[int, ...] | None = None,
) -> PlaygroundConfig:
    """Return the playground run of one case: sorted and never reshuffled, or shuffled (the
    config's learning rate and hidden layers unless the search gives others)."""
    from neuralab.playground.config import PlaygroundConfig

    return PlaygroundConfig(
        data=config.data,
        n=config.n,
        order="sorted" if sorted_data else "shuffled",
        shuffle=not sorted_data,
        hidden=tuple(config.hidden) if hidden is None else hidden,
        activation="relu",
        output=config.output,
        loss=config.loss,
        init=config.init,
        lr=config.lr if lr is None else lr,
        batch_size=1,
        epochs=config.epochs,
        seed=seed,
    )


def playground_cases(config: ShufflingConfig) -> dict[str, PlaygroundConfig]:
    """Return both cases at seed 0 by label: sorted (the claim's poor case) first."""
    return {label: playground_config(config, sorted_data) for label, sorted_data in ORDERS}


def _final_rows(
    config: ShufflingConfig, *, lr: float, hidden: tuple[int, ...]
) -> dict[bool, dict[str, Any]]:
    """Return per order (sorted: True) the mean +- std over seeds of the final dead fraction,
    test accuracy and training loss, and the per-seed test accuracy curves."""
    from neuralab.playground.run import train_playground

    found = {}
    for _, sorted_data in ORDERS:
        histories = [
            train_playground(
                playground_config(config, sorted_data, seed, lr=lr, hidden=hidden)
            ).history
            for seed in range(config.seeds)
        ]
        dead = [sum(h[-1]["dead_fraction"]) / len(h[-1]["dead_fraction"]) for h in histories]
        dead_mean, dead_std = mean_std(dead)
        acc_mean, acc_std = mean_std([h[-1]["test_acc"] for h in histories])
        found[sorted_data] = {
            "dead": dead_mean,
            "dead_std": dead_std,
            "test_acc": acc_mean,
            "test_acc_std": acc_std,
            "train_loss": mean_std([h[-1]["train_loss"] for h in histories])[0],
            "curves": [[row["test_acc"] for row in h] for h in histories],
        }
    return found


def dead_difference(
    sorted_row: dict[str, Any], shuffled_row: dict[str, Any], seeds: int
) -> tuple[float, float]:
    """Return the sorted minus shuffled dead fraction and two standard errors of that
    difference, 2 sqrt(s_sorted^2 / n + s_shuffled^2 / n) (fractions, n = seeds)."""
    error = math.sqrt((sorted_row["dead_std"] ** 2 + shuffled_row["dead_std"] ** 2) / seeds)
    return sorted_row["dead"] - shuffled_row["dead"], 2 * error


def kills_more(sorted_row: dict[str, Any], shuffled_row: dict[str, Any], seeds: int) -> bool:
    """Return whether the sorted order ends with more dead ReLUs by more than two standard
    errors of the difference (:func:`dead_difference`)."""
    difference, two_errors = dead_difference(sorted_row, shuffled_row, seeds)
    return difference > two_errors


def trace_mechanism(config: ShufflingConfig, sorted_data: bool) -> list[dict[str, Any]]:
    """Return, every ``trace_every`` updates of seed 0 at the base setting (and where the
    sorted order switches class, and at each epoch's end), the update count, the dead fraction
    of all hidden units, the share of training points predicted +1 and where in the epoch."""
    import torch

    from neuralab.playground.session import PlaygroundSession

    session = PlaygroundSession(
        playground_config(config, sorted_data, 0, lr=config.lr, hidden=tuple(config.hidden))
    )
    n_train = session.plan.n_train
    # the sorted order shows every class -1 (or 0) example first: it switches class here
    switch = int((session.tensors.t_train <= 0).sum())
    threshold = 0.5 if config.output == "sigmoid" else 0.0
    points = []
    while not session.done:
        session.step()
        where = {switch: "switch", 0: "end"}.get(session.steps % n_train, "")
        if session.steps % config.trace_every and not where:
            continue
        row = session.evaluate()
        session.model.eval()
        with torch.no_grad():
            output = session.model(session.tensors.x_train)
        points.append(
            {
                "step": session.steps,
                "dead": sum(row["dead_fraction"]) / len(row["dead_fraction"]),
                "positive": float((output > threshold).float().mean()),
                "where": where,
            }
        )
    return points


def recency(points: list[dict[str, Any]]) -> float:
    """Return the mean share predicted as the class the sorted order showed last: class -1
    where it switches class, class +1 at the end of each epoch (0.5: no bias from the order)."""
    shares = [1 - p["positive"] for p in points if p["where"] == "switch"]
    shares += [p["positive"] for p in points if p["where"] == "end"]
    return sum(shares) / len(shares)


def run(config: ShufflingConfig, figures_dir: Path | None) -> ExperimentResult:
    """Return sorted vs shuffled (dead ReLUs, accuracy), the search for a setting where sorted
    data kills ReLUs, and the mechanism over time; the conclusion uses all three."""
    if config.seeds < 1 or config.epochs < 1 or config.trace_every < 1:
        raise NeuralabError("seeds, epochs and trace_every must be at least 1")
    hidden = tuple(config.hidden)
    base = _final_rows(config, lr=config.lr, hidden=hidden)
    rows = [
        {
            "order": label,
            **{k: v for k, v in base[s].items() if k != "curves"},
            "seeds": config.seeds,
        }
        for label, s in ORDERS
    ]
    search = []
    for lr, width, depth in itertools.product(
        config.search_lrs, config.search_widths, config.search_depths
    ):
        shape = (width,) * depth
        found = (
            base if (lr, shape) == (config.lr, hidden) else _final_rows(config, lr=lr, hidden=shape)
        )
        search.append(
            {
                "lr": lr,
                "hidden": "x".join(str(h) for h in shape),
                "dead_sorted": found[True]["dead"],
                "dead_shuffled": found[False]["dead"],
                "acc_sorted": found[True]["test_acc"],
                "acc_shuffled": found[False]["test_acc"],
                "kills": kills_more(found[True], found[False], config.seeds),
            }
        )
    traces = {label: trace_mechanism(config, s) for label, s in ORDERS}
    recencies = {label: recency(points) for label, points in traces.items()}

    figures: list[Path] = []
    if figures_dir is not None:
        from neuralab.report.experiment_figures import shuffling_figure, shuffling_trace_figure

        curves = {label: base[s]["curves"] for label, s in ORDERS}
        figure = shuffling_figure(curves, data=config.data, hidden=hidden, seeds=config.seeds)
        figures.append(save(figure, figures_dir, "experiment-shuffling.png"))
        figure = shuffling_trace_figure(traces, data=config.data, hidden=hidden, lr=config.lr)
        figures.append(save(figure, figures_dir, "experiment-shuffling-trace.png"))

    sentence, holds = shuffling_conclusion(config, rows, search, recencies)
    return ExperimentResult(
        name="shuffling",
        title="Sorted vs shuffled training data",
        tables=[
            Table(rows, _COLUMNS, title=f"Base setting: lr {config.lr:g}, hidden {hidden}"),
            Table(
                search,
                _SEARCH_COLUMNS,
                title="Where does sorted data kill ReLUs? (learning rate x width x depth)",
                notes=[
                    "kills: sorted ends with more dead ReLUs than shuffled by more than two "
                    "standard errors of the difference."
                ],
            ),
        ],
        conclusion=sentence,
        holds=holds,
        measurements={
            "test_acc": {"sorted": rows[0]["test_acc"], "shuffled": rows[1]["test_acc"]},
            "dead": {"sorted": rows[0]["dead"], "shuffled": rows[1]["dead"]},
            "search": search,
            "recency": {"sorted": recencies[ORDERS[0][0]], "shuffled": recencies[ORDERS[1][0]]},
            "traces": traces,
        },
        figures=figures,
        config=config,
    )


def shuffling_conclusion(
    config: ShufflingConfig,
    rows: list[dict[str, Any]],
    search: list[dict[str, Any]],
    recencies: dict[str, float],
) -> tuple[str, bool]:
    """Return the sentence and whether the course's claim holds: sorted data ends worse AND
    kills more ReLUs (by two standard errors) at the base setting."""
    ordered, shuffled = rows
    worse = ordered["test_acc"] < shuffled["test_acc"]
    more_dead = kills_more(ordered, shuffled, config.seeds)
    difference, two_errors = dead_difference(ordered, shuffled, config.seeds)
    # the difference beside its noise: 6.2% vs 1.6% alone would read as "more" to a student
    sentence = (
        f"over {config.seeds} seeds, SGD on sorted data ends at test accuracy "
        f"{ordered['test_acc']:.3f} ± {ordered['test_acc_std']:.3f} vs "
        f"{shuffled['test_acc']:.3f} ± {shuffled['test_acc_std']:.3f} when shuffled every epoch "
        f"({'worse' if worse else 'NOT worse'}), with {ordered['dead']:.1%} vs "
        f"{shuffled['dead']:.1%} dead ReLUs (a difference of {difference * 100:+.1f} points, "
        + (
            f"beyond two standard errors ({two_errors * 100:.1f}): more dead units when sorted"
            if more_dead
            else f"within two standard errors ({two_errors * 100:.1f}): "
            "NOT more dead units when sorted"
        )
        + ")"
    )
    killers = [s for s in search if s["kills"]]
    # a setting where neither order learns (both within 0.1 of chance) explains nothing
    learning = [s for s in killers if max(s["acc_sorted"], s["acc_shuffled"]) > 0.6]
    if learning:
        where = ", ".join(
            f"lr {s['lr']:g} hidden {s['hidden']} ({s['dead_sorted']:.1%} vs "
            f"{s['dead_shuffled']:.1%}, test acc {s['acc_sorted']:.3f} vs {s['acc_shuffled']:.3f})"
            for s in learning
        )
        sentence += f"; of {len(search)} settings searched, sorted data kills more ReLUs at {where}"
    elif killers:
        sentence += (
            f"; of {len(search)} settings searched, sorted data kills more ReLUs only where "
            "neither order learns ("
            + ", ".join(f"lr {s['lr']:g} hidden {s['hidden']}" for s in killers)
            + ")"
        )
    else:
        sentence += (
            f"; in none of the {len(search)} settings searched does sorted data kill more ReLUs"
        )
    sorted_recency, shuffled_recency = recencies[ORDERS[0][0]], recencies[ORDERS[1][0]]
    sentence += (
        f"; what does hurt is recency: where the sorted order switches class and at the end of "
        "each epoch the sorted run "
        f"predicts the class it saw last for {sorted_recency:.0%} of the training points "
        f"(shuffled: {shuffled_recency:.0%}; 50% is no bias)"
    )
    return sentence, worse and more_dead


_COLUMNS = [
    Column("order", "training order", justify="left"),
    Column("dead", "dead ReLUs", ".1%"),
    Column("dead_std", "± std", ".1%"),
    Column("test_acc", "test acc", ".3f"),
    Column("test_acc_std", "± std", ".3f"),
    Column("train_loss", "train loss", ".3f"),
    Column("seeds", "seeds", "d"),
]
_SEARCH_COLUMNS = [
    Column("lr", "lr", "g"),
    Column("hidden", "hidden", justify="left"),
    Column("dead_sorted", "dead, sorted", ".1%"),
    Column("dead_shuffled", "dead, shuffled", ".1%"),
    Column("acc_sorted", "test acc, sorted", ".3f"),
    Column("acc_shuffled", "test acc, shuffled", ".3f"),
    Column("kills", "kills", lambda v: "yes" if v else "no", justify="center"),
]
