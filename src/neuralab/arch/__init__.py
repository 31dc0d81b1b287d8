"""Architecture arithmetic: output sizes, parameter counts, the layer spec language, receptive fields.

No training here: integers in, integers out (:mod:`neuralab.arch.shapes`), a compact text
description of a network parsed into ``nn.Sequential`` (:mod:`neuralab.arch.spec`, with its
syntax in :mod:`~neuralab.arch.spec_syntax` and layer table in :mod:`~neuralab.arch.spec_layers`)
and receptive fields: the recursion (:mod:`neuralab.arch.receptive`), through any model's graph
(:mod:`~neuralab.arch.receptive_graph`) and measured by gradients
(:mod:`~neuralab.arch.receptive_gradient`). Per-layer summaries: :mod:`neuralab.arch.summary`
with the fan-in and MAC formulas in :mod:`~neuralab.arch.layer_costs`.
"""

from neuralab.arch.receptive import (  # noqa: F401
    ReceptiveField,
    receptive_field,
    receptive_field_closed_form,
)
from neuralab.arch.receptive_gradient import gradient_receptive_field  # noqa: F401
from neuralab.arch.receptive_graph import module_receptive_fields  # noqa: F401
from neuralab.arch.shapes import (  # noqa: F401
    conv_fan_in,
    conv_output_size,
    conv_params,
    conv_transpose_output_size,
    linear_params,
    pool_output_size,
)
from neuralab.arch.spec import SpecError, build_model, parse_spec, spec_layer_names  # noqa: F401
