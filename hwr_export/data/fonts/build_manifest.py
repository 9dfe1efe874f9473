"""Maintainer tool: resolve candidate handwriting fonts to pinned files and write the manifest.

    python -m hwr_export.data.fonts.build_manifest          # needs npm and Debian registries

Each candidate is downloaded from its registry (npm ``@fontsource/*`` tarballs, Debian ``.deb``
packages), every font file in it is checked to draw the whole charset, and the ones that do are
written to ``manifest.json`` with their source, version, licence and sha256. Fonts that cannot
draw the charset are recorded under ``dropped`` with the missing characters. Users never run
this: ``hwr fonts fetch`` installs exactly what the manifest pins.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from hwr_export.data.fonts.catalog import (
    MANIFEST_PATH,
    FontEntry,
    missing_characters,
    sha256_bytes,
)
from hwr_export.data.fonts.fetch import extract_member, font_members, to_truetype
from runtimes.contract import IAM_CHARSET

NPM_REGISTRY = "https://registry.npmjs.org"
DEBIAN_MIRROR = "http://deb.debian.org/debian"

# Google Fonts' handwriting category, as packaged by Fontsource (all OFL-1.1 or Apache-2.0).
NPM_FONTS = [
    "alex-brush",
    "allura",
    "annie-use-your-telescope",
    "architects-daughter",
    "bad-script",
    "birthstone",
    "caveat",
    "caveat-brush",
    "cedarville-cursive",
    "cookie",
    "courgette",
    "covered-by-your-grace",
    "damion",
    "dancing-script",
    "delius",
    "gaegu",
    "gloria-hallelujah",
    "gochi-hand",
    "great-vibes",
    "handlee",
    "herr-von-muellerhoff",
    "homemade-apple",
    "indie-flower",
    "italianno",
    "itim",
    "kalam",
    "kaushan-script",
    "mansalva",
    "marck-script",
    "monsieur-la-doulaise",
    "mr-de-haviland",
    "ms-madi",
    "nanum-brush-script",
    "nanum-pen-script",
    "neucha",
    "oooh-baby",
    "parisienne",
    "patrick-hand",
    "permanent-marker",
    "pinyon-script",
    "playpen-sans",
    "reenie-beanie",
    "rock-salt",
    "sacramento",
    "satisfy",
    "schoolbell",
    "shadows-into-light",
    "short-stack",
    "sriracha",
    "sue-ellen-francisco",
    "swanky-and-moo-moo",
    "tangerine",
    "the-girl-next-door",
    "vibur",
    "whisper",
    "yellowtail",
]

# Debian packages of handwriting fonts (package -> licence as stated in its copyright file).
DEBIAN_FONTS = {
    "fonts-breip": "GPL-2+ with font exception",
    "fonts-bwht": "OFL-1.1",
    "fonts-comic-neue": "OFL-1.1",
    "fonts-dkg-handwriting": "OFL-1.1",
    "fonts-ecolier-court": "OFL-1.1",
    "fonts-femkeklaver": "OFL-1.1",
    "fonts-humor-sans": "GPL-3 with font exception",
    "fonts-kristi": "OFL-1.1",
    "fonts-rufscript": "OFL-1.1",
    "fonts-sjfonts": "GPL-2+ with font exception",
    "fonts-tomsontalks": "CC-BY-SA-3.0",
    "fonts-klee": "OFL-1.1",
    "fonts-tlwg-purisa-otf": "GPL-2+ with font exception",
}


CAPS_SIMILARITY = 0.84  # lowercase this close to uppercase: an all-caps font, labels would lie
FILE_PREFERENCE = (".ttf", ".otf", ".woff2", ".woff")  # one file per font, the plainest format


def lowercase_as_capitals(font_path: Path, letters: str = "abdeghmnqrty") -> float:
    """Mean shape similarity of lowercase and uppercase glyphs (1.0: the same drawing)."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(font_path), 80)

    def shape(char: str):
        image = Image.new("L", (240, 200), 0)
        ImageDraw.Draw(image).text((40, 150), char, font=font, fill=255, anchor="ls")
        box = image.getbbox()
        return None if box is None else np.asarray(image.crop(box).resize((24, 24)), float)

    similarities = []
    for lower in letters:
        a, b = shape(lower), shape(lower.upper())
        if a is not None and b is not None and a.any() and b.any():
            similarities.append((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))
    return float(np.mean(similarities)) if similarities else 0.0


def _one_file_per_font(entries: list[tuple[FontEntry, bytes]]) -> list[tuple[FontEntry, bytes]]:
    best: dict[str, tuple[FontEntry, bytes]] = {}
    for entry, data in entries:
        rank = FILE_PREFERENCE.index(Path(entry.member).suffix.lower())
        kept = best.get(entry.name)
        if kept is None or rank < FILE_PREFERENCE.index(Path(kept[0].member).suffix.lower()):
            best[entry.name] = (entry, data)
    return list(best.values())


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def npm_entries(name: str) -> list[tuple[FontEntry, bytes]]:
    meta = json.loads(_get(f"{NPM_REGISTRY}/@fontsource%2f{name}/latest"))
    archive = _get(meta["dist"]["tarball"])
    members = font_members(archive, "npm")
    regular = [m for m in members if m.endswith(f"{name}-latin-400-normal.woff")]
    chosen = regular or sorted(m for m in members if "-latin-" in m and m.endswith("-normal.woff"))
    if not chosen:
        raise ValueError(f"no latin woff in @fontsource/{name}@{meta['version']}")
    member = chosen[0]
    data = extract_member(archive, "npm", member)
    entry = FontEntry(
        name=name,
        source="npm",
        package=f"@fontsource/{name}",
        version=meta["version"],
        url=meta["dist"]["tarball"],
        member=member,
        licence=meta.get("license", "OFL-1.1"),
        sha256=sha256_bytes(data),
        archive_sha256=sha256_bytes(archive),
    )
    return [(entry, data)]


def debian_entries(package: str, licence: str) -> list[tuple[FontEntry, bytes]]:
    show = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", package],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fields = dict(line.split(": ", 1) for line in show.splitlines() if ": " in line)
    url = f"{DEBIAN_MIRROR}/{fields['Filename']}"
    archive = _get(url)
    if sha256_bytes(archive) != fields["SHA256"]:
        raise ValueError(f"{package}: download does not match the Debian index checksum")
    entries = []
    for member in font_members(archive, "debian"):
        data = extract_member(archive, "debian", member)
        stem = Path(member).stem.lower().replace("_", "-")
        entry = FontEntry(
            name=stem,
            source="debian",
            package=package,
            version=fields["Version"],
            url=url,
            member=member,
            licence=licence,
            sha256=sha256_bytes(data),
            archive_sha256=fields["SHA256"],
        )
        entries.append((entry, data))
    return entries


def main() -> None:
    kept: list[dict] = []
    dropped: list[dict] = []
    candidates = [(n, lambda n=n: npm_entries(n)) for n in NPM_FONTS] + [
        (p, lambda p=p, lic=lic: debian_entries(p, lic)) for p, lic in DEBIAN_FONTS.items()
    ]
    for label, resolve in candidates:
        try:
            entries = resolve()
        except Exception as exc:  # a maintainer tool: record and go on
            dropped.append({"name": label, "reason": f"not resolved: {exc}"})
            print(f"drop {label}: {exc}", file=sys.stderr)
            continue
        for entry, data in _one_file_per_font(entries):
            with tempfile.TemporaryDirectory() as tmp:
                ttf = to_truetype(data, Path(tmp) / "font.ttf")
                missing = missing_characters(ttf, IAM_CHARSET)
                caps = lowercase_as_capitals(ttf)
            reason = ""
            if missing:
                reason = f"cannot draw {missing!r}"
            elif caps > CAPS_SIMILARITY:
                reason = f"draws lowercase as capitals (shape similarity {caps:.2f})"
            if reason:
                dropped.append({**entry.to_json(), "reason": reason})
                print(f"drop {entry.name}: {reason}", file=sys.stderr)
            else:
                kept.append(entry.to_json())
                print(f"keep {entry.name} ({entry.package} {entry.version})", file=sys.stderr)
    manifest = {
        "charset": IAM_CHARSET,
        "fonts": sorted(kept, key=lambda e: e["name"]),
        "dropped": dropped,
    }
    MANIFEST_PATH.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(kept)} fonts kept, {len(dropped)} dropped -> {MANIFEST_PATH}")


if __name__ == "__main__":
    main()
