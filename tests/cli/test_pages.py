"""`hwr transcribe --pages`, `hwr synth --pages` and `hwr bench --pages` through the Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import xmlschema
from PIL import Image
from typer.testing import CliRunner

from hwr_export.cli import app

runner = CliRunner()
SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


def test_synth_then_transcribe_pages(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    result = runner.invoke(app, ["synth", "--pages", "2", "--out", str(pages), "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in pages.iterdir()) == [
        f"page-000{i}.{ext}" for i in (0, 1) for ext in ("json", "png", "xml")
    ]
    truth = json.loads((pages / "page-0000.json").read_text())
    Image.new("L", (300, 200), 245).save(pages / "blank.png")
    (pages / "broken.png").write_bytes(b"not a png")

    xml_dir, drawings = tmp_path / "xml", tmp_path / "drawn"
    args = ["transcribe", "--pages", str(pages), "--output-format", "page-xml", "--threads", "1"]
    result = runner.invoke(app, [*args, "-o", str(xml_dir), "--draw", str(drawings)])
    assert result.exit_code == 0, result.output
    records = {Path(r["file"]).name: r for r in map(json.loads, result.stdout.splitlines())}
    assert records["broken.png"]["error"].endswith(
        "cannot read image (not a recognised image format)"
    )
    assert records["blank.png"]["lines"] == [] and records["blank.png"]["text"] == ""
    page = records["page-0000.png"]
    assert len(page["lines"]) == len(truth["lines"])
    assert page["text"] == "\n".join(line["text"] for line in page["lines"])
    assert set(page["lines"][0]) == {"text", "confidence", "box", "polygon", "baseline"}
    schema = xmlschema.XMLSchema(str(SCHEMAS / "pagecontent-2019-07-15.xsd"), allow="local")
    for name in ("page-0000", "page-0001", "blank"):
        schema.validate(str(xml_dir / f"{name}.xml"))
        assert Image.open(drawings / f"{name}.png").mode == "RGB"
    schema.validate(str(pages / "page-0000.xml"))  # the ground truth, too


def test_page_options_need_pages(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    Image.new("L", (40, 20), 255).save(image)
    result = runner.invoke(app, ["transcribe", str(image), "--draw", str(tmp_path / "d")])
    assert result.exit_code == 1
    assert "hwr: error: --output-format and --draw describe pages: add --pages" in result.output
    result = runner.invoke(app, ["transcribe", "--pages", str(image), "--output-format", "alto"])
    assert result.exit_code == 1
    assert "--output-format alto needs -o DIR" in result.output


def test_bench_pages(tmp_path: Path) -> None:
    out = tmp_path / "results"
    args = ["bench", "--pages", "--data", "synthetic:16", "--limit", "2", "--results-dir", str(out)]
    result = runner.invoke(app, [*args, "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "line detection precision / recall / F1" in result.output
    [record] = list(out.glob("*/pages.json"))
    data = json.loads(record.read_text())
    assert data["pages"] == 2 and data["lines"] == 16
    assert data["detection"]["f1"] > 0.9
    assert set(data["ms_per_page"]) >= {"segmentation", "recognition"}
