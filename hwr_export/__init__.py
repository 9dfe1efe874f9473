"""hwr: train CRNN handwriting recognizers and export them for the edge.

Submodules import torch; the torch-free inference path lives in the ``runtimes`` package.
"""

__version__ = "0.1.0"
