"""`hwr bench`: accuracy parity and speed of every exported format, side by side.

Measurement (``run``, ``measure``, ``reference``, ``timing``, ``metrics``, ``machine``,
``exports``, ``gate``) is kept apart from presentation (``table``, ``report``, ``markdown``,
``plot``): the run produces one JSON-ready dict and the presenters only read it. Nothing here
imports the command line; ``hwr_export.cli.bench`` and ``hwr_export.cli.spec`` call in.
"""
