"""Export: TorchScript and ONNX writers, int8/fp16 quantization, verification against PyTorch,
and the pipeline (``pipeline.export_all(ExportRequest)``) that runs them for `hwr export` and
`hwr bench`. File names and options come from the format registry, ``runtimes.formats``."""
