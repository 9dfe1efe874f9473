"""Bulk transcription on a Ray cluster: millions of line images, resumable output.

    hwr transcribe model.onnx archive/ manifest.parquet --engine ray --workers 8 -o out.jsonl

``inputs`` expands folders, path lists and Parquet/JSONL manifests; ``engine`` runs a pool of
Ray actors that each hold one Recognizer; ``sinks`` write JSONL or Parquet that a rerun resumes.
Ray is imported only here and only when used (the ``scale`` extra).
"""
