"""Architecture arithmetic: output sizes, parameter counts, the layer spec language, receptive fields.

No training here: integers in, integers out (:mod:`neuralab.arch.shapes`), a compact text
description of a network parsed into ``nn.Sequential`` (:mod:`neuralab.arch.spec`) and receptive
fields through any graph (:mod:`neuralab.arch.receptive`).
"""

from neuralab.arch.receptive import (  # noqa: F401
    ReceptiveField,
    gradient_receptive_field,
    module_receptive_fields,
    receptive_field,
    receptive_field_closed_form,
)
from neuralab.arch.shapes import (  # noqa: F401
    conv_fan_in,
    conv_output_size,
    conv_params,
    conv_transpose_output_size,
    linear_params,
    pool_output_size,
)
from neuralab.arch.spec import SpecError, build_model, parse_spec, spec_layer_names  # noqa: F401
