"""Handwriting fonts for synthetic lines: a pinned manifest, a verified fetch into a user cache.

Fonts are not shipped with hwr; ``hwr fonts fetch`` downloads exactly the files the manifest pins
(npm ``@fontsource/*`` tarballs and Debian packages), checks their sha256, and installs them under
``$HWR_FONTS_DIR`` (default ``~/.cache/hwr/fonts``).
"""
