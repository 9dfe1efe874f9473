"""What a model should read on writers no one here can see, carried over writer by writer.

    python benchmarks/heldout_estimate.py --data ../shared/data/iam-lines-64 --split validation

Issue 10 reports one measurement on held-out IAM writers: the first bundled model,
``hwr-small-iam`` (kept as the anchor, benchmarks/recipe-runs/hwr-small-iam/), read 12.85% CER /
44.41% WER there as fp32 ONNX, greedy, against 10.00% / 35.00% on validation. This reads the
anchor and each model (default: the bundled one, greedy and with ``--lm en``) on the validation
lines as fp32 ONNX, line by line, and carries every model's per-writer CER and WER over to the
held-out writers through the anchor (``hwr_export.bench.carry_over``: a weighted line through
the writers, a bootstrap over writers, and the additive and proportional carry-overs beside it).
An estimate, not a measurement: it says how far from a target a model probably is, not that it
is there. Writes benchmarks/results/<machine>/heldout-estimate.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from hwr_export.atomic import atomic_write_text  # noqa: E402
from hwr_export.bench.carry_over import CarryOver, carry_over  # noqa: E402
from hwr_export.bench.exports import ensure_exports, export_folder  # noqa: E402
from hwr_export.bench.machine import machine_info, machine_slug  # noqa: E402
from hwr_export.bench.metrics import character_error_rate, word_error_rate  # noqa: E402
from hwr_export.bench.writers import group_by_writer, line_writers  # noqa: E402
from hwr_export.data.sources import open_lines  # noqa: E402
from hwr_export.model.source import resolve_model  # noqa: E402
from runtimes.errors import HwrError  # noqa: E402
from runtimes.recognizer import Recognizer  # noqa: E402

ANCHOR = Path(__file__).parent / "recipe-runs" / "hwr-small-iam" / "hwr-small-iam.safetensors"
ANCHOR_HELDOUT = {"cer": 12.85, "wer": 44.41}  # issue 10: 744 lines by 26 held-out writers
RATES = {"cer": character_error_rate, "wer": word_error_rate}


LENGTH = {"cer": "chars", "wer": "words"}  # what weighs a writer in each rate's fit


def per_writer_rates(
    onnx: Path,
    lm: str | None,
    images: list[Image.Image],
    refs: list[str],
    writers: list[str],
    threads: int,
) -> dict[str, dict[str, float]]:
    """writer -> {"cer", "wer", "chars", "words"} (rates in %), and "_all" for the whole split."""
    recognizer = Recognizer.load(onnx, threads=threads, lm=lm)
    texts = [p.text for p in recognizer.transcribe(images, batch_size=1)]
    groups = group_by_writer(refs, texts, writers) | {"_all": (refs, texts)}
    return {
        writer: {name: 100 * (rate(r, t) or 0.0) for name, rate in RATES.items()}
        | {"chars": sum(map(len, r)), "words": sum(len(x.split()) for x in r)}
        for writer, (r, t) in groups.items()
    }


def rate_pair(text: str) -> tuple[float, float]:
    """ "12.85,44.41" -> (12.85, 44.41): a CER and a WER in percent."""
    try:
        cer, wer = (float(value) for value in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected CER,WER in percent") from None
    return cer, wer


def target_pairs(text: str) -> dict[str, dict[str, float]]:
    """ "greedy=9.5,35;lm=8,25" -> {"greedy": {"cer": 9.5, "wer": 35.0}, "lm": {...}}."""
    targets = {}
    for item in text.split(";"):
        kind, _, values = item.partition("=")
        if kind not in ("greedy", "lm"):
            raise argparse.ArgumentTypeError(f"{item!r}: expected greedy=CER,WER or lm=CER,WER")
        targets[kind] = dict(zip(RATES, rate_pair(values), strict=True))
    return targets


def onnx_of(path: Path) -> Path:
    """The fp32 ONNX file a user would ship: the model itself, or its export in hwr bench's
    cache (keyed by the checkpoint's bytes, so two files of the same name never collide)."""
    if not path.is_file():
        raise HwrError(f"{path}: model file not found")
    if path.suffix == ".onnx":
        return path
    paths, errors = ensure_exports(path, export_folder(path, None), ["onnx"])
    if errors:
        raise HwrError(f"{path}: {errors['onnx']}")
    return paths["onnx"]


def _row(label: str, name: str, result: CarryOver, target: float | None) -> str:
    low, _, high = result.bootstrap
    verdict = "" if target is None else f" | {target:.1f}"
    return (
        f"| {label} | {name.upper()} | {result.model_validation:.2f} | **{result.estimate:.2f}** "
        f"| {low:.2f} - {high:.2f} | {result.additive:.2f} | {result.proportional:.2f} "
        f"| {result.slope:.2f} x {'-' if result.intercept < 0 else '+'} {abs(result.intercept):.2f}"
        f"{verdict} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "models", nargs="*", help="MODEL or MODEL@LM (default: the bundled model, and @en)"
    )
    parser.add_argument("--anchor", type=Path, default=ANCHOR)
    parser.add_argument(
        "--anchor-heldout",
        type=rate_pair,
        default=(ANCHOR_HELDOUT["cer"], ANCHOR_HELDOUT["wer"]),
        help="the anchor's held-out CER,WER in percent",
    )
    parser.add_argument(
        "--targets",
        type=target_pairs,
        default=target_pairs("greedy=9.5,35;lm=8,25"),
        help="held-out targets shown beside the estimates (issue 10)",
    )
    parser.add_argument("--data", default="../shared/data/iam-lines-64")
    parser.add_argument("--split", default="validation")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--note", default="")
    args = parser.parse_args()

    heldout = dict(zip(RATES, args.anchor_heldout, strict=True))
    targets = args.targets
    bundled = resolve_model(None)
    specs = args.models or [str(bundled), f"{bundled}@en"]
    lines = list(open_lines(args.data, args.split))
    writers = line_writers(lines)
    images, refs = [line.image for line in lines], [line.text for line in lines]  # decoded once
    if set(writers) == {"?"}:
        raise SystemExit(f"{args.data} [{args.split}]: no writer field in metadata.jsonl")

    anchor = per_writer_rates(onnx_of(args.anchor), None, images, refs, writers, args.threads)
    print(f"anchor {args.anchor.name}: {anchor['_all']['cer']:.2f} / {anchor['_all']['wer']:.2f}")
    models: dict[str, dict[str, Any]] = {}
    for spec in specs:
        path, _, lm = spec.partition("@")
        onnx = onnx_of(resolve_model(path))
        rates = per_writer_rates(onnx, lm or None, images, refs, writers, args.threads)
        names = sorted(w for w in rates if w != "_all")
        estimates = {
            name: carry_over(
                [anchor[w][name] for w in names],
                [rates[w][name] for w in names],
                [rates[w][LENGTH[name]] for w in names],
                heldout[name],
            )
            for name in RATES
        }
        models[spec] = {"per_writer": rates, "estimates": estimates}
        print(spec, {k: round(v.estimate, 2) for k, v in estimates.items()}, flush=True)

    result = {
        "command": "python " + " ".join(sys.argv),
        "data": {"spec": args.data, "split": args.split, "lines": len(lines)},
        "anchor": {
            "model": str(args.anchor),
            "heldout": heldout,
            "per_writer": anchor,
        },
        "machine": machine_info("cpu", args.threads),
        "note": args.note,
        "models": {
            spec: {
                "per_writer": m["per_writer"],
                "estimates": {k: asdict(v) for k, v in m["estimates"].items()},
            }
            for spec, m in models.items()
        },
    }
    folder = args.out / machine_slug(result["machine"])
    atomic_write_text(folder / "heldout-estimate.json", json.dumps(result, indent=2) + "\n")
    md = [
        f"## Held-out estimate: {args.split} ({len(lines)} lines, "
        f"{len(set(writers))} writers) carried over through {args.anchor.name}",
        "",
        f"Anchor: {anchor['_all']['cer']:.2f}% CER / {anchor['_all']['wer']:.2f}% WER here, "
        f"{heldout['cer']:.2f}% / {heldout['wer']:.2f}% on the held-out writers (measured elsewhere). "
        "All models read as fp32 ONNX, line by line.",
        "",
        "| model | rate | validation % | held-out estimate % | bootstrap 10-90% "
        "| additive | proportional | per-writer line | target |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for spec, m in models.items():
        path, _, lm = spec.partition("@")
        label = (Path(path).name if Path(path) == bundled else path) + (
            f" `--lm {lm}`" if lm else " greedy"
        )
        target = targets.get("lm" if lm else "greedy", {})
        md += [_row(label, n, m["estimates"][n], target.get(n)) for n in RATES]
    md += [
        "",
        "Per-writer line: model = slope x anchor + intercept over the validation writers, "
        "weighted by reference length. Additive: the anchor's gap in points; proportional: its "
        "ratio. The estimate assumes the held-out writers relate to the anchor as these do, and "
        "it inherits any luck in a model's validation score: a file chosen as the best of "
        "several runs on validation reads better here than its recipe does on average.",
        "",
        f"Machine: {result['machine'].get('cpu', '')}. {args.note}".rstrip(),
    ]
    atomic_write_text(folder / "heldout-estimate.md", "\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    try:
        main()
    except HwrError as exc:  # a missing model or data folder: one line, no traceback
        raise SystemExit(f"heldout_estimate.py: {exc}") from None
