"""Weight search for Boolean networks, and the check of proposed weights.

:func:`search_weights` enumerates every assignment of W1, W2 (and b1, b2) from a small value set,
e.g. {-1, 0, 1}, in chunks on the tensor engine, and keeps those whose truth table is the target
function (the network and the tolerance as in :mod:`neuralab.theory.boolean`).
:func:`check_candidates` says for each proposed network whether it computes the target.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from neuralab.errors import NeuralabError
from neuralab.theory.activations import get_activation
from neuralab.theory.boolean import (
    BooleanNetwork,
    check_network_shapes,
    evaluate_network,
    forward,
    input_combinations,
    output_tolerance,
    target_bits,
)

SEARCH_LIMIT = 10_000_000  # largest number of weight assignments search_weights enumerates


@dataclass(frozen=True)
class SearchResult:
    """Every weight assignment from a value set, and those that compute the target."""

    target: str
    target_outputs: torch.Tensor  # (2^inputs,)
    values: tuple[float, ...]
    inputs: int
    hidden: int
    bias: bool
    activation: str
    output_activation: str | None
    tolerance: float
    weights_per_network: int  # hidden inputs + hidden (+ hidden + 1 with bias)
    space: int  # len(values) ** weights_per_network: every assignment was tried
    count: int  # assignments computing the target
    solutions: list[BooleanNetwork]  # the first ``keep`` of them, in enumeration order


def _unpack(flat: torch.Tensor, inputs: int, hidden: int, bias: bool) -> tuple[torch.Tensor, ...]:
    """Split (batch, weights) into W1, W2, b1, b2; order: W1 row-major, W2, b1, b2."""
    batch = flat.shape[0]
    at = hidden * inputs
    W1 = flat[:, :at].reshape(batch, hidden, inputs)
    W2 = flat[:, at : at + hidden].reshape(batch, 1, hidden)
    if not bias:
        return W1, W2, None, None  # type: ignore[return-value]
    b1 = flat[:, at + hidden : at + 2 * hidden]
    b2 = flat[:, at + 2 * hidden :]
    return W1, W2, b1, b2


def search_weights(
    target: str,
    values: Sequence[float] = (-1, 0, 1),
    hidden: int = 2,
    bias: bool = False,
    inputs: int | None = None,
    *,
    activation: str = "relu",
    output_activation: str | None = None,
    tolerance: float | None = None,
    keep: int = 100,
    chunk: int = 65_536,
    progress: Callable[[int, int], None] | None = None,
) -> SearchResult:
    """Return how many weight assignments with entries from ``values`` compute ``target``.

    Every network with ``hidden`` hidden units (one output) whose weights (and biases with
    ``bias``) are drawn from ``values`` is evaluated on the whole truth table: the search space
    has len(values)^(number of weights) networks, enumerated in chunks with torch; above
    ``SEARCH_LIMIT`` the search is refused, saying how large it would be. Networks that differ
    only by the order of their hidden units are counted separately. ``progress(done, total)`` is
    called after each chunk.
    """
    name, bits = target_bits(target, inputs)
    n = bits.numel().bit_length() - 1
    choices = sorted({float(v) for v in values})
    if not choices or any(not math.isfinite(v) for v in choices):
        raise NeuralabError(f"values {list(values)!r} must be a non-empty set of finite numbers")
    if hidden < 1:
        raise NeuralabError(f"hidden {hidden} must be >= 1")
    get_activation(activation)
    if output_activation is not None:
        get_activation(output_activation)
    count_weights = hidden * n + hidden + (hidden + 1 if bias else 0)
    space = len(choices) ** count_weights
    if space > SEARCH_LIMIT:
        raise NeuralabError(
            f"the search space has {len(choices)}^{count_weights} = {space:,} networks "
            f"({count_weights} weights, {len(choices)} values each); the limit is "
            f"{SEARCH_LIMIT:,}: use fewer values, fewer hidden units or no bias"
        )
    tol = output_tolerance(tolerance, output_activation)
    X = input_combinations(n)
    table = torch.tensor(choices, dtype=torch.float64)
    # digit d of an assignment's index picks the value of weight d (weight 0 varies slowest)
    places = len(choices) ** torch.arange(count_weights - 1, -1, -1)
    count, solutions = 0, list[BooleanNetwork]()
    for start in range(0, space, chunk):
        index = torch.arange(start, min(start + chunk, space)).unsqueeze(1)
        flat = table[(index // places) % len(choices)]  # (chunk, weights)
        W1, W2, b1, b2 = _unpack(flat, n, hidden, bias)
        _, out = forward(X, W1, W2, b1, b2, activation, output_activation)  # (chunk, rows, 1)
        match = ((out[..., 0] - bits).abs() <= tol).all(dim=1)
        count += int(match.sum())
        for k in match.nonzero().flatten().tolist()[: max(0, keep - len(solutions))]:
            solutions.append(
                BooleanNetwork(
                    W1[k], W2[k], None if b1 is None else b1[k], None if b2 is None else b2[k]
                )
            )
        if progress is not None:
            progress(min(start + chunk, space), space)
    return SearchResult(
        name, bits, tuple(choices), n, hidden, bias, activation, output_activation, tol,
        count_weights, space, count, solutions,
    )  # fmt: skip


@dataclass(frozen=True)
class CandidateCheck:
    """Whether one candidate network computes the target, and what it computes instead."""

    network: BooleanNetwork
    outputs: torch.Tensor  # (2^inputs,)
    computes_target: bool
    computed: str  # the name of the function it computes (or "not Boolean")


def check_candidates(
    target: str,
    candidates: Sequence[BooleanNetwork | tuple[torch.Tensor, ...]],
    *,
    inputs: int | None = None,
    activation: str = "relu",
    output_activation: str | None = None,
    tolerance: float | None = None,
) -> list[CandidateCheck]:
    """Return, for each candidate (W1, W2[, b1, b2]), whether it computes ``target``.

    Each candidate must have one output and as many inputs as the target's truth table.
    """
    _, bits = target_bits(target, inputs)
    n = bits.numel().bit_length() - 1
    tol = output_tolerance(tolerance, output_activation)
    checks = []
    for number, candidate in enumerate(candidates, start=1):
        network = candidate if isinstance(candidate, BooleanNetwork) else BooleanNetwork(*candidate)
        try:
            check_network_shapes(network, n)
        except NeuralabError as error:
            raise NeuralabError(f"candidate {number}: {error}") from None
        if network.W2.shape[0] != 1:
            raise NeuralabError(
                f"candidate {number}: W2 has {network.W2.shape[0]} rows; expected outputs x "
                f"hidden = 1x{network.W2.shape[1]} (one output for one target function)"
            )
        result = evaluate_network(
            network.W1, network.W2, network.b1, network.b2, activation,
            output_activation=output_activation, tolerance=tol,
        )  # fmt: skip
        outputs = result.outputs[:, 0]
        matches = bool(((outputs - bits).abs() <= tol).all())
        checks.append(CandidateCheck(result.network, outputs, matches, result.names[0]))
    return checks


__all__ = ["SEARCH_LIMIT", "CandidateCheck", "SearchResult", "check_candidates", "search_weights"]
