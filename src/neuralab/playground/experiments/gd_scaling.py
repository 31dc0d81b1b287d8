"""Part 3 of gd-variants: how long GD, SGD and mini-batch take to reach a training loss as the
data grows, counted in epochs, in gradient evaluations and in wall-clock seconds.

Per epoch every variant computes N per-example gradients, so "per epoch" and "per gradient
evaluation" rank the variants the same way; they differ in how many updates those gradients buy:
GD makes one, SGD N. Wall time is what a user waits for: GD's one update over N examples is one
vectorised pass, SGD's N updates are N small ones, each paying the per-step overhead. Measured:
each variant trains until its training loss is at most ``target_loss`` (checked about 20 times
per epoch, at most every 25 updates, outside the timed steps) or until ``budget_seconds`` of
training time are spent.
"""

from __future__ import annotations

from typing import Any

BATCHES = (("full batch (GD)", 0), ("SGD (b=1)", 1))
# wall times within this factor of each other are a tie: timing noise on a busy machine
TIE_FACTOR = 1.5


def time_to_target(config: Any, n: int, batch_size: int) -> dict[str, Any]:
    """Return epochs, gradient evaluations, updates and training seconds until the training
    loss is at most ``config.target_loss`` (``reached`` False: the budget ran out first)."""
    from neuralab.playground.config import PlaygroundConfig
    from neuralab.playground.session import PlaygroundSession

    session = PlaygroundSession(
        PlaygroundConfig(
            data=config.data,
            n=n,
            hidden=tuple(config.hidden),
            activation=config.activation,
            lr=config.lr,
            batch_size=batch_size,
            epochs=100_000,
            seed=config.seed,
        )
    )
    n_train = session.plan.n_train
    updates_per_epoch = 1 if batch_size == 0 else -(-n_train // batch_size)
    every = max(1, min(updates_per_epoch // 20, 25))
    reached = False
    while session.train_seconds < config.budget_seconds and not session.done:
        session.step()
        if session.steps % every == 0 and session.evaluate()["train_loss"] <= config.target_loss:
            reached = True
            break
    return {
        "n_train": n_train,
        "reached": reached,
        "epochs": session.examples / n_train,
        "gradient_evaluations": session.examples,
        "updates": session.steps,
        "seconds": session.train_seconds,
    }


def scaling_rows(config: Any) -> list[dict[str, Any]]:
    """Return one row per (data size, variant): the costs of :func:`time_to_target`."""
    variants = [*BATCHES, (f"mini-batch (b={config.minibatch})", config.minibatch)]
    rows = []
    for n in config.data_sizes:
        for label, batch_size in variants:
            rows.append({"n": n, "variant": label, **time_to_target(config, n, batch_size)})
    return rows


def per_second(gd: dict[str, Any], sgd: dict[str, Any]) -> str:
    """Return ``faster``, ``slower`` or ``as fast`` (within TIE_FACTOR): SGD against GD in
    training seconds to the target (GD that never got there is slower)."""
    if not sgd["reached"]:
        return "slower"
    if not gd["reached"] or gd["seconds"] > TIE_FACTOR * sgd["seconds"]:
        return "faster"
    return "slower" if sgd["seconds"] > TIE_FACTOR * gd["seconds"] else "as fast"


def scaling_conclusion(config: Any, rows: list[dict[str, Any]]) -> tuple[str, bool]:
    """Return the sentence comparing GD and SGD per epoch and per second at every data size,
    and whether SGD reached the target loss faster (by TIE_FACTOR) at the largest size."""
    by_key = {(r["n"], r["variant"]): r for r in rows}
    parts, verdicts = [], {}
    for n in config.data_sizes:
        gd, sgd = by_key[(n, BATCHES[0][0])], by_key[(n, BATCHES[1][0])]
        verdicts[n] = per_second(gd, sgd)
        if not sgd["reached"]:
            parts.append(f"n={n}: SGD did not reach it within {config.budget_seconds:g} s")
            continue
        gd_text = (
            f"GD {gd['epochs']:.3g} epochs / {gd['seconds']:.2f} s"
            if gd["reached"]
            else f"GD not within {gd['epochs']:.3g} epochs / {config.budget_seconds:g} s"
        )
        parts.append(
            f"n={n}: SGD {sgd['epochs']:.3g} epochs / {sgd['seconds']:.2f} s vs {gd_text} "
            f"(SGD {verdicts[n]} per second)"
        )
    per_epoch = all(
        by_key[(n, BATCHES[1][0])]["reached"]
        and (
            not by_key[(n, BATCHES[0][0])]["reached"]
            or by_key[(n, BATCHES[1][0])]["epochs"] < by_key[(n, BATCHES[0][0])]["epochs"]
        )
        for n in config.data_sizes
    )
    largest = config.data_sizes[-1]
    sentence = (
        f"to reach training loss {config.target_loss:g}: "
        + "; ".join(parts)
        + "; per epoch (= per gradient evaluation) SGD is "
        + ("first at every size" if per_epoch else "NOT first at every size")
        + f"; per wall-clock second (a tie within {TIE_FACTOR:g}x) SGD is faster at "
        f"{_sizes(verdicts, 'faster')}, as fast at {_sizes(verdicts, 'as fast')} and slower at "
        f"{_sizes(verdicts, 'slower')}"
    )
    if verdicts[largest] != "faster":
        sentence += f" (on the largest data, n={largest}, SGD is NOT faster per second)"
    return sentence, per_epoch and verdicts[largest] == "faster"


def _sizes(verdicts: dict[int, str], value: str) -> str:
    sizes = [f"n={n}" for n, v in verdicts.items() if v == value]
    return ", ".join(sizes) if sizes else "no size"


__all__ = ["per_second", "scaling_conclusion", "scaling_rows", "time_to_target"]
