"""The recognizer in a real browser, proven equal to Python (run by `make test-web`).

    python tests/web/browser_parity.py --out out/web-test [--chromium /usr/bin/chromium]

Exports the bundled model for the web (int8 and fp32), writes synthetic lines (a third of them
rescaled to other heights, some RGB or with an alpha channel, so that the resize and grayscale
twins are exercised), serves the folder on 127.0.0.1 with `hwr web`'s server, and drives the page
in headless Chromium with Playwright. For each model it compares every browser transcript with
`hwr transcribe` on the same files, prints exactly ``web parity: N/N lines identical``, and
checks that the browser's logits agree with ONNX Runtime in Python (max abs diff <= 1e-3). Then
bad input (a non-image file, an empty canvas, a model without contract) must give a readable
message on the page and a rejected promise; a line written on the canvas with the mouse is read
offline; a screenshot and the timings (browser vs native ONNX Runtime, ms/line) are saved.
Exit status 1 on any difference.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from hwr_export.cli.web_server import start_server  # noqa: E402
from runtimes.preprocess import load_image, make_batch, to_model_input  # noqa: E402
from runtimes.recognizer import Recognizer  # noqa: E402

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MAX_LOGIT_DIFF = 1e-3  # fp32; int8 kernels differ between WASM and native ORT (see below)
MAX_CONFIDENCE_DIFF = 1e-3  # fp32, line confidence against hwr transcribe's (4 decimals)
TIMING_ROUNDS = 3  # each line is transcribed this often after a warm-up; the median counts

# In the page: transcribe files sent as base64, with their logits and timings.
RUN_LINES = """
async ({lines, rounds}) => {
  const base64 = (floats) => {
    const raw = new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
    let binary = "";
    for (let i = 0; i < raw.length; i += 8192) binary += String.fromCharCode(...raw.subarray(i, i + 8192));
    return btoa(binary);
  };
  const rec = await window.hwrReady;
  const out = [];
  for (const {name, data} of lines) {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const file = new File([bytes], name, {type: "image/png"});
    const result = await rec.transcribe(file);
    const logits = await rec.logits(file);
    const times = [];
    for (let i = 0; i < rounds; i++) times.push((await rec.transcribe(file)).ms);
    const prepared = await rec.prepare(file);
    const inference = [];
    for (let i = 0; i < rounds; i++) {
      const start = performance.now();
      await rec.run(prepared);
      inference.push(performance.now() - start);
    }
    out.push({name, text: result.text, confidence: result.confidence, times, inference,
              frames: logits.frames, classes: logits.classes, logits: base64(logits.data),
              input: base64(prepared.data), inputWidth: prepared.width});
  }
  return {lines: out, backend: rec.backend};
}
"""

EXPECT_REJECTION = """
async (what) => {
  const { Recognizer } = await import("./hwr.js");
  try {
    if (what === "not-an-image") {
      const rec = await window.hwrReady;
      await rec.transcribe(new File(["just some text"], "notes.txt", {type: "text/plain"}));
    } else if (what === "empty-canvas") {
      const rec = await window.hwrReady;
      const canvas = document.createElement("canvas");
      canvas.width = 400; canvas.height = 80;
      await rec.transcribe(canvas);
    } else {
      await Recognizer.load("no-contract.onnx");
    }
    return null;
  } catch (error) {
    return error.message;
  }
}
"""


def make_lines(folder: Path, count: int, seed: int) -> list[Path]:
    """`hwr synth` lines; of every three, one is rescaled to another height, some as RGB or
    with alpha, so the browser must resize and composite like Python does."""
    run(
        [
            str(REPO / ".venv/bin/hwr"),
            "synth",
            "--count",
            str(count),
            "--seed",
            str(seed),
            "--out",
            str(folder),
        ]
    )
    paths = sorted(folder.glob("*.png"))
    heights = [48, 100, 37, 80, 130, 56, 96, 41]
    for i, path in enumerate(paths):
        if i % 3 != 1:
            continue
        image = Image.open(path).convert("L")
        height = heights[(i // 3) % len(heights)]
        width = max(1, round(image.width * height / image.height))
        image = image.resize((width, height), Image.Resampling.LANCZOS)
        if i % 9 == 4:
            image = Image.merge("RGB", (image, image.point(lambda v: min(255, v + 20)), image))
        elif i % 9 == 7:  # ink on transparent paper
            alpha = image.point(lambda v: 255 - v)
            image = Image.merge("RGBA", (image, image, image, alpha))
        image.save(path)
    return paths


def run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr.strip()}")
    return done.stdout


def python_transcripts(model: Path, lines: Path) -> dict[str, dict]:
    """`hwr transcribe`'s JSON line (text, confidence to 4 decimals) of each file, by name."""
    out = run([str(REPO / ".venv/bin/hwr"), "transcribe", str(model), str(lines)])
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {Path(row["file"]).name: row for row in rows}


def native_timing(model: Path, paths: list[Path], threads: int) -> dict[str, float]:
    """ms per line, one line at a time, timed like the browser: end to end (image file to text,
    as the page's transcribe(file)) and inference alone (model input to logits)."""
    recognizer = Recognizer.load(model, runtime="onnx", threads=threads)
    contract = recognizer.contract
    recognizer.transcribe([load_image(paths[0])])
    end_to_end, inference = [], []
    for path in paths:
        times, runs = [], []
        for _ in range(TIMING_ROUNDS):
            start = time.perf_counter()
            recognizer.transcribe([load_image(path)])
            times.append((time.perf_counter() - start) * 1000)
        batch = make_batch([to_model_input(load_image(path), contract)], contract)
        for _ in range(TIMING_ROUNDS):
            start = time.perf_counter()
            recognizer.runtime.run(batch)
            runs.append((time.perf_counter() - start) * 1000)
        end_to_end.append(statistics.median(times))
        inference.append(statistics.median(runs))
    return {
        f"native_ort_{threads}_thread_ms_per_line": round(statistics.mean(end_to_end), 2),
        f"native_ort_{threads}_thread_inference_ms_per_line": round(statistics.mean(inference), 2),
    }


def browser_timing(lines: list[dict], label: str) -> dict[str, float]:
    return {
        f"browser_{label}_ms_per_line": round(
            statistics.mean(statistics.median(line["times"]) for line in lines), 2
        ),
        f"browser_{label}_inference_ms_per_line": round(
            statistics.mean(statistics.median(line["inference"]) for line in lines), 2
        ),
    }


def strip_contract(source: Path, target: Path) -> None:
    import onnx

    model = onnx.load(str(source))
    del model.metadata_props[:]
    onnx.save(model, str(target))


def check_models(
    page, base: str, site: Path, paths: list[Path], models: list[str], report: dict
) -> bool:
    ok = True
    lines = [{"name": p.name, "data": base64.b64encode(p.read_bytes()).decode()} for p in paths]
    for model in models:
        page.goto(f"{base}/index.html?model={model}")
        result = page.evaluate(RUN_LINES, {"lines": lines, "rounds": TIMING_ROUNDS})
        expected = python_transcripts(site / model, paths[0].parent)
        recognizer = Recognizer.load(site / model, runtime="onnx", threads=1)
        same, same_input, worst, frames, agreeing, confidence_diff = 0, 0, 0.0, 0, 0, 0.0
        for path, got in zip(paths, result["lines"], strict=True):
            want = expected[path.name]
            if got["text"] == want["text"]:
                same += 1
            else:
                print(f"  {path.name}: browser {got['text']!r} != python {want['text']!r}")
            confidence_diff = max(confidence_diff, abs(got["confidence"] - want["confidence"]))
            python_input = to_model_input(load_image(path), recognizer.contract)
            browser_input = np.frombuffer(base64.b64decode(got["input"]), np.float32)
            if browser_input.tobytes() == python_input.tobytes():
                same_input += 1
            else:
                print(f"  {path.name}: the browser's model input differs from Python's")
            reference = recognizer.runtime.run(make_batch([python_input], recognizer.contract))[0]
            browser = np.frombuffer(base64.b64decode(got["logits"]), np.float32)
            browser = browser.reshape(got["frames"], got["classes"])
            if browser.shape != reference.shape:
                print(f"  {path.name}: logits {browser.shape} != python {reference.shape}")
                worst = float("inf")
            else:
                worst = max(worst, float(np.abs(browser - reference).max()))
                frames += len(reference)
                agreeing += int((browser.argmax(1) == reference.argmax(1)).sum())
        print(f"{model} in Chromium ({result['backend']}):")
        print(f"web parity: {same}/{len(paths)} lines identical")
        print(
            f"model input: {same_input}/{len(paths)} lines bit-identical to runtimes/preprocess.py"
        )
        # int8: WASM and native ONNX Runtime use different integer kernels, whose rounding can
        # move a quantized value by one step (~0.1 logit); the transcripts must still agree.
        gated = ".int8." not in model
        limit = f"limit {MAX_LOGIT_DIFF:.0e}" if gated else "int8: reported, not gated"
        print(
            f"logits: max abs diff {worst:.2e} vs ONNX Runtime in Python ({limit}); "
            f"best class equal in {agreeing}/{frames} frames"
        )
        # hwr transcribe prints confidences to 4 decimals: 5e-5 of rounding, plus the logits'
        print(f"line confidence: max abs diff {confidence_diff:.1e} vs hwr transcribe")
        ok &= same == same_input == len(paths) and (worst <= MAX_LOGIT_DIFF or not gated)
        ok &= confidence_diff <= MAX_CONFIDENCE_DIFF or not gated
        report["models"][model] = {
            "lines": len(paths),
            "identical": same,
            "model_input_bit_identical": same_input,
            "max_logit_diff": worst,
            "max_confidence_diff": confidence_diff,
            "frames_with_equal_best_class": f"{agreeing}/{frames}",
            "texts": [line["text"] for line in result["lines"]],
            "browser_backend_isolated": result["backend"],
            **browser_timing(result["lines"], "isolated"),
            **native_timing(site / model, paths, 1),
            **native_timing(site / model, paths, 2),
        }
    return ok


def more_timings(
    page, base: str, query: str, label: str, paths: list[Path], models: list[str], report: dict
) -> bool:
    """The same lines on another page setting (``query``), for the timing table only; the
    transcripts must still be Python's."""
    lines = [{"name": p.name, "data": base64.b64encode(p.read_bytes()).decode()} for p in paths]
    ok = True
    for model in models:
        page.goto(f"{base}/index.html?model={model}{query}")
        result = page.evaluate(RUN_LINES, {"lines": lines, "rounds": TIMING_ROUNDS})
        row = report["models"][model]
        row[f"browser_backend_{label}"] = result["backend"]
        row |= browser_timing(result["lines"], label)
        row[f"identical_{label}"] = sum(
            got["text"] == want for got, want in zip(result["lines"], row["texts"], strict=True)
        )
        if row[f"identical_{label}"] != len(paths):
            print(
                f"{model} ({label}): only {row[f'identical_{label}']}/{len(paths)} lines as before"
            )
            ok = False
    return ok


def check_bad_input(page, base: str, site: Path, fp32: str) -> bool:
    strip_contract(site / fp32, site / "no-contract.onnx")
    page.goto(f"{base}/index.html")
    page.evaluate("window.hwrReady")
    expected = {
        "not-an-image": "notes.txt: cannot read image (not a recognised image format)",
        "empty-canvas": "canvas: nothing to read (the image is blank)",
        "no-contract": "no-contract.onnx: no hwr model contract in the file metadata",
    }
    ok = True
    for what, message in expected.items():
        got = page.evaluate(EXPECT_REJECTION, what)
        good = got is not None and got.startswith(message)
        ok &= good
        print(f"bad input {what}: {'rejected' if good else 'NOT rejected as expected'}: {got}")
    # The same on the page itself.
    page.set_input_files(
        "#file", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hi"}]
    )
    page.wait_for_function("document.getElementById('error').textContent.length > 0")
    shown = page.inner_text("#error")
    page.click("#read")  # the empty pad
    page.wait_for_function("document.getElementById('error').textContent.includes('your writing')")
    shown_canvas = page.inner_text("#error")
    page.goto(f"{base}/index.html?model=no-contract.onnx")
    page.wait_for_function("document.getElementById('error').textContent.length > 0")
    shown_model = page.inner_text("#error")
    for label, text, want in [
        ("page, non-image", shown, expected["not-an-image"]),
        ("page, empty canvas", shown_canvas, "your writing: nothing to read (the image is blank)"),
        ("page, model without contract", shown_model, expected["no-contract"]),
    ]:
        good = text.startswith(want)
        ok &= good
        print(f"bad input {label}: {'shown' if good else 'NOT shown'}: {text}")
    (site / "no-contract.onnx").unlink()
    return ok


def write_on_canvas_offline(page, context, base: str) -> bool:
    """Write a word with the mouse, go offline, read it: the loaded page needs no network."""
    page.goto(f"{base}/index.html")
    page.evaluate("window.hwrReady")
    context.set_offline(True)
    box = page.locator("#pad").bounding_box()
    x0, y0 = box["x"] + 40, box["y"] + box["height"] * 0.6
    strokes = [  # a rough "hi"
        [(0, -60), (0, 0)],
        [(0, -25), (15, -35), (30, -25), (30, 0)],
        [(55, -30), (55, 0)],
        [(55, -45), (56, -44)],
    ]
    for stroke in strokes:
        page.mouse.move(x0 + stroke[0][0], y0 + stroke[0][1])
        page.mouse.down()
        for dx, dy in stroke[1:]:
            page.mouse.move(x0 + dx, y0 + dy, steps=8)
        page.mouse.up()
    page.click("#read")
    page.wait_for_function(
        "document.querySelectorAll('#results li').length > 0 || document.getElementById('error').textContent"
    )
    error = page.inner_text("#error")
    context.set_offline(False)
    print(f"canvas, offline: {'read' if not error else 'FAILED: ' + error}")
    return not error


def screenshot(page, paths: list[Path], target: Path) -> None:
    """The page as the canvas check left it (a line written and read), plus some files."""
    page.set_input_files("#file", files=[str(p) for p in paths])
    page.wait_for_function(f"document.querySelectorAll('#results li').length > {len(paths)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=True)
    print(f"screenshot: {target}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "out" / "web-test")
    parser.add_argument("--lines", type=int, default=24)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--screenshot", type=Path, default=None, help="default: OUT/page.png")
    parser.add_argument("--timings", type=Path, default=None, help="default: OUT/timings.json")
    parser.add_argument("--note", default="", help="what else ran on the machine (recorded)")
    args = parser.parse_args()
    if not Path(args.chromium).exists():
        sys.exit(f"hwr: error: {args.chromium}: Chromium not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    shutil.rmtree(args.out, ignore_errors=True)
    site, lines = args.out / "site", args.out / "lines"
    run(
        [
            str(REPO / ".venv/bin/hwr"),
            "export",
            "--format",
            "web",
            "--web-model",
            "both",
            "--out",
            str(site),
        ]
    )
    paths = make_lines(lines, args.lines, args.seed)
    manifest = json.loads((site / "manifest.json").read_text())
    int8, fp32 = manifest["models"]
    server = start_server(site)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    from hwr_export.bench.machine import machine_info

    report = {"machine": machine_info("cpu"), "models": {}, "chromium": args.chromium}
    report["note"] = args.note
    report["load_average_before"] = os.getloadavg()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        report["chromium_version"] = browser.version
        context = browser.new_context(viewport={"width": 1000, "height": 900})
        page = context.new_page()
        models = [int8, fp32]
        ok = check_models(page, base, site, paths, models, report)
        ok &= check_bad_input(page, base, site, fp32)
        ok &= write_on_canvas_offline(page, context, base)
        screenshot(page, paths[:3], args.screenshot or args.out / "page.png")
        plain = start_server(site, isolate=False)
        plain_base = f"http://127.0.0.1:{plain.server_address[1]}"
        ok &= more_timings(page, base, "&threads=2", "isolated_2_threads", paths, models, report)
        ok &= more_timings(page, plain_base, "", "not_isolated", paths, models, report)
        plain.shutdown()
        browser.close()
    server.shutdown()
    report["load_average_after"] = os.getloadavg()
    timings = args.timings or args.out / "timings.json"
    timings.parent.mkdir(parents=True, exist_ok=True)
    timings.write_text(json.dumps(report, indent=2) + "\n")
    print(f"timings (ms/line, mean over {args.lines} lines of the median of {TIMING_ROUNDS} runs):")
    for model, row in report["models"].items():
        times = ", ".join(
            f"{k.removesuffix('_ms_per_line')} {v}" for k, v in row.items() if "ms" in k
        )
        print(f"  {model}: {times}")
    print(f"timings: {timings}")
    print("web test: " + ("passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
