"""Translation: convolution is equivariant, pooling buys (some) invariance, and the dense layers a
convolution can express are a strict subset of all dense layers.

With T_v the translation of an image by v pixels (circular: what leaves one edge enters the
other, so nothing is lost and the statements are exact):

- a convolution with circular padding is *equivariant*: conv(T_v x) = T_v conv(x), for every v;
  with zero padding the same holds away from the border, and it is *not invariant*:
  conv(T_v x) != conv(x);
- max pooling with window and stride s is equivariant only for shifts by multiples of s,
  pool(T_(s u) x) = T_u pool(x); a one-pixel shift changes part of its outputs (it is not
  invariant, only unchanged where the window's maximum stays inside the window);
- global pooling (max or mean over the whole map) is invariant: gpool(T_v x) = gpool(x), and so is
  a convolution followed by it.

Strict inclusion: every convolution is a dense layer, y = A x with A built from the kernel
(:mod:`neuralab.arch.conv_matrix`), but the matrices A of all kernels form a linear subspace of
dimension k_h k_w (one per kernel weight) inside the space of all (H_out W_out) x (H W) dense
matrices. A dense matrix outside it is not a convolution: its least-squares distance to the
subspace is > 0. Measured for a chosen one ("every output reads the first pixel", which is not
equivariant) and a random one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from neuralab.errors import NeuralabError

if TYPE_CHECKING:
    import torch
    from torch import Tensor

# torch is imported where the comparisons are computed: the sizes are checked without it
from neuralab.limits import check_memory

TOLERANCE = 1e-12  # float64: differences below this are rounding (the order of a sum changed)


@dataclass(frozen=True)
class TranslationRow:
    """One comparison: an operation, a shift, what is compared and the largest difference."""

    operation: str
    shift: tuple[int, int]
    statement: str  # e.g. "conv(T x) = T conv(x)"
    region: str  # where the difference was measured
    max_difference: float
    unchanged: float  # fraction of output entries equal (within TOLERANCE) on both sides

    @property
    def holds(self) -> bool:
        return self.max_difference <= TOLERANCE


@dataclass(frozen=True)
class InclusionRow:
    """A dense matrix and its least-squares distance to the subspace of convolution matrices."""

    name: str
    relative_residual: float  # ||W - A(w*)||_F / ||W||_F for the best kernel w*
    best_kernel: list[list[float]]

    @property
    def is_convolution(self) -> bool:
        return self.relative_residual <= TOLERANCE


@dataclass(frozen=True)
class TranslationReport:
    """Every comparison, and the strict inclusion of convolutions in dense layers."""

    size: int  # the image is size x size
    kernel: int
    pool: int
    rows: list[TranslationRow]
    input_size: int  # inclusion: input n x n
    inclusion_kernel: int  # inclusion: kernel k x k (valid convolution)
    dense_dimension: int  # (n - k + 1)^2 n^2: free entries of a dense matrix
    conv_dimension: int  # rank of kernel -> A: k^2
    inclusion: list[InclusionRow]


def _shift(x: Tensor, v: tuple[int, int]) -> Tensor:
    import torch

    return torch.roll(x, shifts=v, dims=(-2, -1))


def _compare(
    operation: str, statement: str, left: Tensor, right: Tensor, shift: tuple[int, int], region: str
) -> TranslationRow:
    difference = (left - right).abs()
    return TranslationRow(
        operation=operation,
        shift=shift,
        statement=statement,
        region=region,
        max_difference=float(difference.max()),
        unchanged=float((difference <= TOLERANCE).double().mean()),
    )


def check_translation_sizes(size: int, kernel: int, pool: int) -> None:
    """Refuse sizes the comparisons cannot use: ``size`` a multiple of ``pool`` (at least two
    windows), ``kernel`` odd and at most ``size``."""
    if pool < 1:
        raise NeuralabError(f"pool {pool} must be >= 1 (the pooling window and stride)")
    if size < 2 * pool or size % pool or kernel < 1 or kernel % 2 == 0 or kernel > size:
        raise NeuralabError(
            f"size {size} must be a multiple of pool {pool} (at least 2 pool), kernel {kernel} "
            "odd and at most the size"
        )


def translation_check(
    size: int = 8, kernel: int = 3, pool: int = 2, seed: int = 0, inclusion_input: int = 3
) -> TranslationReport:
    """Return every comparison of the module docstring on a random ``size`` x ``size`` image
    (float64, ``seed``), and the inclusion test for a ``inclusion_input`` square input and a
    2 x 2 kernel."""
    import torch
    import torch.nn.functional as F

    check_translation_sizes(size, kernel, pool)
    # the image and about ten shifted, padded, convolved and pooled copies of it, in float64
    check_memory(10 * 8 * (size + kernel) ** 2, f"a {size}x{size} image and its shifted copies")
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 1, size, size, generator=generator, dtype=torch.float64)
    w = torch.randn(1, 1, kernel, kernel, generator=generator, dtype=torch.float64)
    pad = kernel // 2

    def conv_circular(image: Tensor) -> Tensor:
        return F.conv2d(F.pad(image, (pad,) * 4, mode="circular"), w)

    def conv_zero(image: Tensor) -> Tensor:
        return F.conv2d(image, w, padding=pad)

    def pooled(image: Tensor) -> Tensor:
        return F.max_pool2d(image, pool)

    rows = []
    for v in ((1, 0), (2, 3)):
        rows.append(
            _compare(
                "conv (circular pad)",
                "conv(T x) = T conv(x)",
                conv_circular(_shift(x, v)),
                _shift(conv_circular(x), v),
                v,
                "whole map",
            )
        )
    v = (1, 0)
    interior = slice(pad + v[0], size - pad), slice(pad + v[1], size - pad)
    zero_left, zero_right = conv_zero(_shift(x, v)), _shift(conv_zero(x), v)
    rows.append(
        _compare(
            "conv (zero pad)",
            "conv(T x) = T conv(x)",
            zero_left[..., interior[0], interior[1]],
            zero_right[..., interior[0], interior[1]],
            v,
            f"rows {interior[0].start + 1}-{size - pad}, cols {interior[1].start + 1}-{size - pad}",
        )
    )
    rows.append(
        _compare("conv (zero pad)", "conv(T x) = T conv(x)", zero_left, zero_right, v, "whole map")
    )
    rows.append(
        _compare(
            "conv (circular pad)",
            "conv(T x) = conv(x)",
            conv_circular(_shift(x, v)),
            conv_circular(x),
            v,
            "whole map",
        )
    )
    rows.append(
        _compare(
            f"max pool {pool}x{pool}/{pool}",
            f"pool(T_{pool} x) = T_1 pool(x)",
            pooled(_shift(x, (pool, 0))),
            _shift(pooled(x), (1, 0)),
            (pool, 0),
            "whole map",
        )
    )
    rows.append(
        _compare(
            f"max pool {pool}x{pool}/{pool}",
            "pool(T x) = pool(x)",
            pooled(_shift(x, v)),
            pooled(x),
            v,
            "whole map",
        )
    )
    for name, reduce in (("global max pool", torch.amax), ("global mean pool", torch.mean)):
        rows.append(
            _compare(
                name,
                "gpool(T x) = gpool(x)",
                reduce(_shift(x, (2, 3)), dim=(-2, -1)),
                reduce(x, dim=(-2, -1)),
                (2, 3),
                "the output",
            )
        )
    rows.append(
        _compare(
            "conv -> global max",
            "gpool(conv(T x)) = gpool(conv(x))",
            torch.amax(conv_circular(_shift(x, (2, 3))), dim=(-2, -1)),
            torch.amax(conv_circular(x), dim=(-2, -1)),
            (2, 3),
            "the output",
        )
    )
    inclusion, dense_dimension, conv_dimension = _inclusion(inclusion_input, 2, generator)
    return TranslationReport(
        size=size,
        kernel=kernel,
        pool=pool,
        rows=rows,
        input_size=inclusion_input,
        inclusion_kernel=2,
        dense_dimension=dense_dimension,
        conv_dimension=conv_dimension,
        inclusion=inclusion,
    )


def _inclusion(n: int, k: int, generator: torch.Generator) -> tuple[list[InclusionRow], int, int]:
    """Return the distance of three dense matrices to the span of the convolution matrices of a
    k x k kernel on an n x n input, and the two dimensions."""
    import torch
    import torch.nn.functional as F

    if n < k:
        raise NeuralabError(f"the inclusion input {n} must be at least the kernel {k}")
    out = n - k + 1
    # A as a linear function of the kernel: column t of the basis is A for the unit kernel e_t
    basis = []
    for t in range(k * k):
        unit = torch.zeros(k * k, dtype=torch.float64)
        unit[t] = 1.0
        # A's row (i, j) is the response of output (i, j) to each input pixel
        pixels = torch.eye(n * n, dtype=torch.float64).reshape(n * n, 1, n, n)
        columns = F.conv2d(pixels, unit.reshape(1, 1, k, k)).reshape(n * n, out * out)
        basis.append(columns.T.reshape(-1))
    span = torch.stack(basis, dim=1)  # (out^2 n^2, k^2)
    conv_dimension = int(torch.linalg.matrix_rank(span))
    first_pixel = torch.zeros(out * out, n * n, dtype=torch.float64)
    first_pixel[:, 0] = 1.0  # every output reads x1: the same weight, but not shifted along
    kernel = torch.randn(k * k, generator=generator, dtype=torch.float64)
    candidates = [
        ("a convolution's A (random kernel)", (span @ kernel).reshape(out * out, n * n)),
        ("every output reads x1", first_pixel),
        ("random dense", torch.randn(out * out, n * n, generator=generator, dtype=torch.float64)),
    ]
    rows = []
    for name, matrix in candidates:
        target = matrix.reshape(-1, 1)
        best = torch.linalg.lstsq(span, target).solution
        residual = float((span @ best - target).norm() / target.norm())
        rows.append(InclusionRow(name, residual, best.reshape(k, k).tolist()))
    return rows, out * out * n * n, conv_dimension


__all__ = [
    "InclusionRow",
    "TranslationReport",
    "TranslationRow",
    "check_translation_sizes",
    "translation_check",
]
