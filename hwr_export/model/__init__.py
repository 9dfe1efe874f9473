"""The CRNN: presets, the network, self-describing checkpoints, where a model file comes from,
and the PyTorch / TorchScript runtime adapters that plug into ``runtimes``."""
