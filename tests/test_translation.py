"""Translation: convolution equivariant, pooling only for multiples of the stride, global pooling
invariant; convolutions a strict subset of dense layers. PyTorch's own layers as the judge."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from neuralab.theory.translation import translation_check


def _row(report, operation, statement):
    return next(r for r in report.rows if r.operation == operation and r.statement == statement)


def test_what_holds_and_what_does_not():
    report = translation_check()
    verdicts = {(r.operation, r.statement, r.region): r.holds for r in report.rows}
    assert verdicts[("conv (circular pad)", "conv(T x) = T conv(x)", "whole map")]
    assert not verdicts[("conv (zero pad)", "conv(T x) = T conv(x)", "whole map")]
    assert not verdicts[("conv (circular pad)", "conv(T x) = conv(x)", "whole map")]
    assert _row(report, "max pool 2x2/2", "pool(T_2 x) = T_1 pool(x)").holds
    one_pixel = _row(report, "max pool 2x2/2", "pool(T x) = pool(x)")
    assert not one_pixel.holds and 0 < one_pixel.unchanged < 1
    assert _row(report, "global max pool", "gpool(T x) = gpool(x)").holds
    assert _row(report, "conv -> global max", "gpool(conv(T x)) = gpool(conv(x))").holds


def test_pytorch_circular_conv_is_equivariant():
    # the judge: nn.Conv2d with padding_mode="circular", no neuralab code
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False).double()
    x = torch.randn(1, 1, 8, 8, dtype=torch.float64)
    shifted = torch.roll(x, (2, 3), dims=(-2, -1))
    assert torch.equal(conv(shifted), torch.roll(conv(x), (2, 3), dims=(-2, -1)))
    assert not torch.equal(F.max_pool2d(torch.roll(x, 1, dims=-1), 2), F.max_pool2d(x, 2))


def test_strict_inclusion():
    report = translation_check()
    # 3x3 input, 2x2 kernel: A is 4 x 9 (36 entries), but only 4 kernel weights span all A
    assert (report.dense_dimension, report.conv_dimension) == (36, 4)
    conv, first_pixel, random = report.inclusion
    assert conv.is_convolution and conv.relative_residual < 1e-12
    assert not first_pixel.is_convolution and not random.is_convolution
    # every output reading x1 only (four ones): the kernel matrices of w1..w4 have disjoint
    # supports of 4 entries each and only w1's meets W, in one entry, so the best kernel is
    # w1 = 1/4 and the residual ||W||^2 - 4 (1/4)^2 = 15/4, relative sqrt(15/16)
    assert first_pixel.best_kernel[0][0] == 0.25
    assert abs(first_pixel.relative_residual - (15 / 16) ** 0.5) < 1e-12
