"""Word n-gram language models for decoding: building them (``arpa``) and the bundled one's text
(``sources``). Decoding with them is torch-free and lives in ``runtimes.lm``."""
