"""Training: the loop (``loop``), line batches (``batches``) and resumable run state (``state``)."""
