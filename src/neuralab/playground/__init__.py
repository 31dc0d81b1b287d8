"""The playground: small networks on toy 2-D data, to show what initialization, activations,
shuffling, batch size and regularization do (TF Playground's engine, with diagnostics).

- :mod:`~neuralab.playground.toy_data`: circle, xor, gauss, spiral, moons, blobs, regression sets;
- :mod:`~neuralab.playground.features`: the input features x1, x2, x1^2, x2^2, x1 x2, sin x1, sin x2;
- :mod:`~neuralab.playground.mlp`: the MLP, its loss and the diagnostics (dead, saturated,
  symmetric units, per-layer gradient norms);
- :mod:`~neuralab.playground.run`: ``PlaygroundConfig`` -> ``train_playground`` -> history;
- :mod:`~neuralab.playground.batched`: many configs trained at once, comparison grids;
- :mod:`~neuralab.playground.experiments`: the course's experiments.
"""
