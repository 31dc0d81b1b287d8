"""The losses of the theory commands, by name, without torch: defined here once.

``neuralab gradients --loss mes`` and ``neuralab sam-step --loss mes`` are refused with the valid
names before torch is imported; :mod:`neuralab.theory.gradients` and
:mod:`neuralab.vision.sam_step` take their lists from here.
"""

from __future__ import annotations

# mse: L = sum (out - y)^2 on o; bce on sigmoid(o); ce on softmax(o)
GRADIENT_LOSSES: tuple[str, ...] = ("mse", "bce", "ce")
# the linear unit of one SAM step: mse on w . x, bce on sigmoid(w . x)
SAM_STEP_LOSSES: tuple[str, ...] = ("mse", "bce")
