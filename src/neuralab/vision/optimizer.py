"""The optimiser of a run: SGD, Adam or AdamW (SAM around it), with a slower backbone when fine-tuning.

When a run starts from trained weights (``pretrained`` or ``weights``) with the backbone not
frozen, the parameters form two groups: the new classifier head at lr and the backbone at
lr * ``backbone_lr_factor``; the head is found for every model by
:func:`neuralab.vision.models.head_parameters` (torchvision, timm, factories, the course's).
"""

from __future__ import annotations

from typing import Any

import torch

from neuralab.vision.config import TrainConfig
from neuralab.vision.sam import SAM


def build_optimizer(config: TrainConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    """Return the optimiser of ``config`` (SAM around it if ``config.sam``).

    When fine-tuning pretrained weights (``pretrained`` or ``weights``, backbone not frozen) the
    backbone gets lr * backbone_lr_factor and the new head lr: the head starts from random
    weights, the backbone should move little.
    """
    from neuralab.vision.models import backbone_parameters, head_parameters

    trainable = [p for p in model.parameters() if p.requires_grad]
    params: list[Any] = trainable
    fine_tuning = (config.pretrained or config.weights) and not config.freeze_backbone
    if fine_tuning and config.backbone_lr_factor != 1.0:
        params = [  # the head first: the lr column of the table is the head's (peak) lr
            {"params": [p for p in head_parameters(model) if p.requires_grad], "lr": config.lr},
            {
                "params": [p for p in backbone_parameters(model) if p.requires_grad],
                "lr": config.lr * config.backbone_lr_factor,
            },
        ]
    optimizer_class: type[torch.optim.Optimizer]
    options: dict[str, Any] = {"lr": config.lr, "weight_decay": config.weight_decay}
    if config.optimizer == "sgd":
        optimizer_class = torch.optim.SGD
        options.update(momentum=config.momentum, nesterov=config.nesterov)
    elif config.optimizer == "adam":
        optimizer_class = torch.optim.Adam
    else:
        optimizer_class = torch.optim.AdamW
    if config.sam:
        return SAM(params, optimizer_class, rho=config.rho, adaptive=config.adaptive, **options)
    return optimizer_class(params, **options)
