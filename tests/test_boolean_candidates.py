"""Candidate Boolean networks from text: JSON lists, objects, files and 'W1 | W2 | b1 | b2'."""

from __future__ import annotations

import json

import pytest

from neuralab.errors import NeuralabError
from neuralab.theory.boolean_candidates import parse_candidates
from neuralab.theory.boolean_search import check_candidates

XOR = [[[-1, 1], [1, -1]], [[1, 1]]]


def test_every_form_gives_the_same_network(tmp_path):
    path = tmp_path / "candidates.json"
    path.write_text(json.dumps([{"w1": XOR[0], "w2": XOR[1]}]))
    forms = [
        parse_candidates(json.dumps([XOR]), []),
        parse_candidates(json.dumps(XOR), []),  # one pair instead of a list of pairs
        parse_candidates(str(path), []),
        parse_candidates(None, ["[[-1,1],[1,-1]] | [[1,1]]"]),
        parse_candidates(None, ["-1,1;1,-1 | 1,1"]),
    ]
    for networks in forms:
        [network] = networks
        assert network.W1.tolist() == XOR[0] and network.W2.tolist() == XOR[1]
        assert network.b1 is None and network.b2 is None
        [check] = check_candidates("XOR", networks)
        assert check.computes_target


def test_biases_and_both_options_together():
    networks = parse_candidates(
        '[{"w1": [[1,1]], "w2": [[1]], "b1": [-1]}]', ["1,1;1,1 | 1,-1 | 0,-1 | 0"]
    )
    assert [n.b1.tolist() for n in networks] == [[-1.0], [0.0, -1.0]]
    assert networks[0].b2 is None and networks[1].b2.tolist() == [0.0]


@pytest.mark.parametrize(
    ("check", "candidate", "fragment"),
    [
        ("[[1,2", [], "is neither a JSON file nor a list"),
        ("[]", [], "non-empty list of candidates"),
        ('[{"w1": [[1,1]]}]', [], "candidate 1 has keys ['w1']"),
        ("[5]", [], "candidate 1 is 5"),
        (None, ["1,1;1,1"], "candidate 1 has 1 parts"),
        (None, ["[[1,2],[3]] | 1"], "ragged rows"),
    ],
)
def test_bad_candidates_name_the_problem(check, candidate, fragment):
    with pytest.raises(NeuralabError, match=fragment.replace("[", r"\[")):
        parse_candidates(check, candidate)
