"""The playground's written-out optimisers against torch.optim."""

from __future__ import annotations

import pytest
import torch

from neuralab.playground.mlp import MLP
from neuralab.playground.optimizer import Optimizer


@pytest.mark.parametrize(
    ("kind", "reference"),
    [
        ("sgd", lambda ps: torch.optim.SGD(ps, lr=0.1)),
        ("momentum", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.8)),
        ("adam", lambda ps: torch.optim.Adam(ps, lr=0.1)),
    ],
)
def test_optimizer_matches_torch_optim(kind, reference):
    torch.manual_seed(0)
    ours = MLP(2, (3,), 1, "tanh", "identity")
    theirs = MLP(2, (3,), 1, "tanh", "identity")
    theirs.load_state_dict(ours.state_dict())
    params = list(ours.parameters())
    optimizer = Optimizer(kind, params, [0.1] * len(params), [0.8] * len(params))
    judge = reference(list(theirs.parameters()))
    x, t = torch.randn(16, 2), torch.randn(16, 1)
    for _ in range(5):
        for model, step in ((ours, optimizer), (theirs, judge)):
            step.zero_grad()
            ((model(x) - t) ** 2).mean().backward()
            step.step()
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("kind", ["sgd", "momentum", "adam"])
def test_parameters_without_a_gradient_stay_as_torch_optim_leaves_them(kind):
    # below a step activation no gradient flows: the first layer gets none
    torch.manual_seed(0)
    ours = MLP(2, (3,), 1, "step", "identity")
    theirs = MLP(2, (3,), 1, "step", "identity")
    theirs.load_state_dict(ours.state_dict())
    params = list(ours.parameters())
    optimizer = Optimizer(kind, params, [0.1] * len(params), [0.8] * len(params))
    reference = {"sgd": torch.optim.SGD, "momentum": torch.optim.SGD, "adam": torch.optim.Adam}[
        kind
    ]
    extra = {"momentum": 0.8} if kind == "momentum" else {}
    judge = reference(list(theirs.parameters()), lr=0.1, **extra)
    x, t = torch.randn(16, 2), torch.randn(16, 1)
    first = ours.hidden_layers[0].weight.detach().clone()
    for _ in range(3):
        for model, step in ((ours, optimizer), (theirs, judge)):
            step.zero_grad()
            ((model(x) - t) ** 2).mean().backward()
            step.step()
    assert torch.equal(ours.hidden_layers[0].weight, first)
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)
