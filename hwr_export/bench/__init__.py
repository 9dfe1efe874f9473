"""`hwr bench`: accuracy parity and speed of every exported format, side by side.

Measurement (``run``, ``measure``, ``reference``, ``timing``, ``metrics``, ``machine``,
``exports``, ``gate``) is kept apart from presentation (``table``, ``report``, ``markdown``,
``plot``): the run produces one JSON-ready dict, each format's row a typed ``results.FormatResult``,
and the presenters only read it. Which formats exist is ``runtimes.formats``'s business. Nothing here
imports the command line; ``hwr_export.cli.bench`` and ``hwr_export.cli.spec`` call in.
"""
