"""Rendering a summary: the JSON schema, CSV, Markdown, HTML, rich, and the summary that prints itself."""

from __future__ import annotations

import csv
import io
import json

from rich.console import Console
from torch import nn

import neuralab
from neuralab.arch.summary import Summary
from neuralab.arch.summary import summary as compute_summary
from neuralab.report.summary_render import (
    RenderedSummary,
    human_bytes,
    human_count,
    pair_str,
    shape_str,
    summary,
    summary_text,
)


def course_cnn() -> nn.Sequential:
    """N = 28, M = 20 maps 5x5, 2x2 max-pool, dense K = 100, 10 classes (built by hand)."""
    return nn.Sequential(
        nn.Conv2d(1, 20, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2880, 100),
        nn.ReLU(),
        nn.Linear(100, 10),
    )


def test_json_schema_is_exact():
    data = json.loads(summary(course_cnn(), (1, 28, 28)).to_json())
    assert list(data) == [
        "input_shape",
        "layers",
        "total_params",
        "trainable_params",
        "total_macs",
        "param_bytes",
        "activation_bytes",
        "input_shapes",
        "batch_size",
        "dtype",
        "mode",
        "memory",
    ]
    assert data["input_shape"] == [1, 28, 28]
    assert data["input_shapes"] == [[1, 28, 28]] and data["mode"] == "eval"
    first = data["layers"][0]
    assert list(first) == [
        "name",
        "type",
        "output_shape",
        "params",
        "trainable_params",
        "fan_in",
        "receptive_field",
        "jump",
        "start",
        "macs",
        "input_shape",
        "kernel_size",
        "recursive",
    ]
    assert first["output_shape"] == [20, 24, 24] and first["receptive_field"] == [5, 5]
    assert first["input_shape"] == [1, 28, 28] and first["kernel_size"] == [5, 5]
    assert list(data["memory"]) == [
        "input_bytes",
        "param_bytes",
        "grad_bytes",
        "saved_activation_bytes",
        "train_step_bytes",
    ]
    assert data["total_params"] == 289_630


def test_csv_markdown_html_and_rich():
    result = summary(course_cnn(), (1, 28, 28))
    rows = list(csv.DictReader(io.StringIO(result.to_csv())))
    assert rows[0]["output_shape"] == "20x24x24" and rows[4]["params"] == "288100"
    markdown = result.to_markdown(hwc=True)
    assert "| 0 | Conv2d | 24x24x20 | 520 |" in markdown
    assert "**total**" in markdown and "289,630" in markdown
    html = result._repr_html_()
    assert html.startswith("<table>") and "288,100" in html and "577K" in html
    text = str(result)
    assert "288,100" in text and "577K" in text and "activations" in text


def test_number_formats():
    assert human_count(999) == "999"
    assert human_count(1_000) == "1,000"
    assert human_count(588_000) == "588K"
    assert human_count(12_345_678) == "12.3M"
    assert human_count(1_818_558_976) == "1.8G"
    assert human_bytes(1_158_520) == "1.1 MiB"
    assert pair_str((5, 5)) == "5" and pair_str((5, 3)) == "5x3" and pair_str((1.5, 1.5)) == "1.5"


def test_shapes_in_either_order():
    assert shape_str((20, 24, 24)) == "20x24x24"
    assert shape_str((20, 24, 24), hwc=True) == "24x24x20"
    assert shape_str((784,), hwc=True) == "784"


def test_the_public_summary_renders_itself_with_the_numbers_of_arch():
    model = course_cnn()
    rendered = neuralab.summary(model, (1, 28, 28))
    assert type(rendered) is RenderedSummary and neuralab.summary is summary
    assert isinstance(rendered, Summary) and isinstance(rendered, neuralab.Summary)
    computed = compute_summary(model, (1, 28, 28))
    assert rendered.rows == computed.rows and rendered.leaf_rows == computed.leaf_rows
    assert rendered.total_params == computed.total_params == 289_630
    assert RenderedSummary.of(computed) == rendered
    # rich.print(s) shows the same table as print(s)
    buffer = io.StringIO()
    Console(file=buffer, width=120, color_system=None, highlight=False).print(rendered)
    assert buffer.getvalue() == str(rendered) == summary_text(computed)
    assert rendered.table(hwc=True).columns[2].header == "output (HxWxC)"
