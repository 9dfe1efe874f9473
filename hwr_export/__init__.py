"""hwr: train CRNN handwriting recognizers and export them for the edge.

Folders by job: ``cli/`` (the `hwr` commands), ``data/`` (line sources, synthetic lines, text,
fonts, augmentation), ``model/`` (presets, the CRNN, checkpoints, PyTorch runtime adapters),
``train/`` (loop, batches, run state), ``export/`` (TorchScript, ONNX, quantization,
verification, the export pipeline), ``bench/`` (the benchmark). These import torch; the
torch-free inference core is the separate ``runtimes`` package, which never imports this one.
"""

__version__ = "0.1.0"
