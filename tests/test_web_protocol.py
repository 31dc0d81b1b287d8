"""The page's messages are checked before anything acts on them; limits on what a tab may ask."""

from __future__ import annotations

import json

import pytest

from neuralab.errors import NeuralabError
from neuralab.playground.config import PlaygroundConfig
from neuralab.web.limits import Limits, check_config
from neuralab.web.protocol import Command, ProtocolError, RateLimit, parse_message

LIMITS = Limits()


def parse(message: object) -> Command:
    return parse_message(json.dumps(message), LIMITS)


def test_commands_without_arguments():
    for kind in ("play", "pause", "reset", "regenerate"):
        assert parse({"type": kind}) == Command(kind)


def test_set_keeps_json_values_and_turns_lists_into_tuples():
    command = parse(
        {"type": "set", "net": "b", "values": {"lr": 0.1, "hidden": [8, 8], "shuffle": False}}
    )
    assert command.args == {"net": "b", "values": {"lr": 0.1, "hidden": (8, 8), "shuffle": False}}


def test_weight_and_bias_need_indices_and_finite_numbers():
    command = parse(
        {"type": "weight", "net": "a", "layer": 1, "unit": 2, "source": 0, "value": -0.5}
    )
    assert command.args == {"net": "a", "layer": 1, "unit": 2, "source": 0, "value": -0.5}
    assert parse({"type": "bias", "layer": 0, "unit": 3, "value": 2}).args["value"] == 2.0
    with pytest.raises(ProtocolError, match="'layer': an integer"):
        parse({"type": "weight", "layer": -1, "unit": 0, "source": 0, "value": 1})
    with pytest.raises(ProtocolError, match="finite number"):
        parse_message('{"type": "bias", "layer": 0, "unit": 0, "value": NaN}', LIMITS)
    with pytest.raises(ProtocolError, match="outside"):
        parse({"type": "bias", "layer": 0, "unit": 0, "value": 1e9})


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"type": "launch"}', "unknown message type 'launch'"),
        ('{"type": "set", "values": {}}', "needs 'values'"),
        ('{"type": "set", "net": "c", "values": {"lr": 1}}', "net 'c'"),
        ('{"type": "set", "values": {"lr": {"$gt": 1}}}', "a setting is"),
        ('{"type": "set", "values": {"lr": Infinity}}', "not a finite number"),
        ('{"type": "step", "unit": "year"}', "step unit 'year'"),
        ('{"type": "compare", "on": "yes"}', "true or false"),
        ('{"type": "export", "what": "passwords"}', "export 'passwords'"),
        ('{"type": "view", "discretize": 1}', "true or false"),
        ('{"type": "open", "query": 5}', "needs 'query'"),
        ("[" * 200_000, "nested too deeply"),  # within the size limit; Python's parser recurses
        ('{"type": "set", "values": ' + '{"a": ' * 50_000 + "1" + "}" * 50_001, "too deeply"),
    ],
    ids=lambda value: value[:40] if isinstance(value, str) else value,
)
def test_bad_messages_are_one_line_each(raw, match):
    with pytest.raises(ProtocolError, match=match) as caught:
        parse_message(raw, LIMITS)
    assert "\n" not in str(caught.value)


def test_size_limits():
    with pytest.raises(ProtocolError, match="limit"):
        parse_message("x" * (LIMITS.max_message_bytes + 1), LIMITS)
    text = "1,2,0 " * (LIMITS.max_upload_bytes // 6 + 10)
    with pytest.raises(ProtocolError, match="at most 1,000,000"):
        parse({"type": "upload", "name": "big.csv", "text": text})
    with pytest.raises(ProtocolError, match="characters"):
        parse({"type": "set", "values": {"init": "x" * 500}})


def test_rate_limit_allows_a_burst_then_the_rate():
    now = [0.0]
    rate = RateLimit(10, 5, clock=lambda: now[0])
    assert [rate.allow() for _ in range(6)] == [True] * 5 + [False]
    now[0] += 0.25  # 2.5 tokens
    assert [rate.allow() for _ in range(3)] == [True, True, False]


def test_limits_name_the_value_and_the_limit():
    check_config(PlaygroundConfig(hidden=(8,) * 10), LIMITS)
    with pytest.raises(
        NeuralabError, match="11 hidden layers; the browser playground draws at most 10"
    ):
        check_config(PlaygroundConfig(hidden=(2,) * 11), LIMITS)
    with pytest.raises(NeuralabError, match="a layer of 65 units"):
        check_config(PlaygroundConfig(hidden=(65,)), LIMITS)
    with pytest.raises(NeuralabError, match="260 hidden units"):
        check_config(PlaygroundConfig(hidden=(64, 64, 64, 64, 4)), LIMITS)
    with pytest.raises(NeuralabError, match="n=6000"):
        check_config(PlaygroundConfig(n=6000), LIMITS)
    with pytest.raises(NeuralabError, match="trains on the CPU"):
        check_config(PlaygroundConfig(device="auto"), LIMITS)
