"""The playground: small networks on toy 2-D data, to show what initialization, activations,
shuffling, batch size and regularization do (TF Playground's engine, with diagnostics).

- :mod:`~neuralab.playground.toy_data`: circle, xor, gauss, spiral, moons, blobs, regression sets;
- :mod:`~neuralab.playground.features`: the input features x1, x2, x1^2, x2^2, x1 x2, sin x1, sin x2;
- :mod:`~neuralab.playground.mlp`: the MLP, its loss and the diagnostics (dead, saturated,
  symmetric units, per-layer gradient norms);
- :mod:`~neuralab.playground.config`: ``PlaygroundConfig``, every knob with its default;
- :mod:`~neuralab.playground.plan`: the config resolved on its data (output, loss, batches), the MLP;
- :mod:`~neuralab.playground.optimizer`: SGD, momentum and Adam, written out;
- :mod:`~neuralab.playground.session`: ``PlaygroundSession``, one network trained step by step
  (the engine of the CLI and of the browser), and its ``PlaygroundResult``;
- :mod:`~neuralab.playground.run`: ``train_playground``, a run of a session from start to end;
- :mod:`~neuralab.playground.batched`: many same-shaped networks trained as one model;
- :mod:`~neuralab.playground.compare`: comparison grids over config fields and seeds;
- :mod:`~neuralab.playground.experiments`: the course's experiments.
"""
