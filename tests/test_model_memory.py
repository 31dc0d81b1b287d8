"""A spec's memory estimate from its shape arithmetic equals the meta device's forward pass."""

from __future__ import annotations

import pytest

from neuralab.arch.model_memory import meta_memory
from neuralab.arch.spec import build_model, call_output_shapes

SPECS = [
    ("conv(10,5) -> maxpool(2)", (3, 32, 32)),
    (
        "conv(20,5) -> relu -> bn -> maxpool(2) -> dropout(0.5) -> fc(100) -> relu -> fc(10)",
        (1, 28, 28),
    ),
    ("conv(8,3,p=1) -> gelu -> gap -> fc(4) -> softmax", (3, 16, 16)),
    ("fc(64) -> tanh -> fc(1)", (10,)),
]


def test_the_course_example_by_hand():
    # ten 5x5 filters on 32x32x3 -> 28x28x10, pooled to 14x14x10; the Sequential's own output last
    assert call_output_shapes("conv(10,5) -> maxpool(2)", (3, 32, 32)) == [
        (10, 28, 28),
        (10, 14, 14),
        (10, 14, 14),
    ]
    # 760 parameters and 3*32*32 inputs, float32; outputs 7840 + 1960 + 1960 elements
    estimate = meta_memory(
        lambda: build_model("conv(10,5) -> maxpool(2)", (3, 32, 32)),
        (3, 32, 32),
        output_shapes=lambda: call_output_shapes("conv(10,5) -> maxpool(2)", (3, 32, 32)),
    )
    assert estimate == 4 * (760 + 3 * 32 * 32 + 7840 + 1960 + 1960)


@pytest.mark.parametrize(("spec", "shape"), SPECS)
@pytest.mark.parametrize("batch_size", [1, 3])
def test_the_arithmetic_equals_the_meta_forward_pass(spec, shape, batch_size):
    def build():
        return build_model(spec, shape)

    by_meta = meta_memory(build, shape, batch_size=batch_size)
    by_shapes = meta_memory(
        build, shape, batch_size=batch_size, output_shapes=lambda: call_output_shapes(spec, shape)
    )
    assert by_shapes == by_meta
