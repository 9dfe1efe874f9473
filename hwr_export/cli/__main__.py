"""`python -m hwr_export.cli ...` is `hwr ...` (torchrun launches training this way)."""

from hwr_export.cli import main

if __name__ == "__main__":
    main()
