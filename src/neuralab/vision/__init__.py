"""Image classification: data sets, device-resident loaders, models, SAM and the training engine.

Import from the submodules (``neuralab.vision.datasets``, ``neuralab.vision.loader``, ...): this
package file stays light so that ``neuralab --help`` does not import torch.
"""
