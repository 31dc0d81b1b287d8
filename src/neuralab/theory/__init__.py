"""The theory bench: neurons, activation functions, Boolean networks, gradients, convolution."""
