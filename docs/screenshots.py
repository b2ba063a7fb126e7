"""Take the manual's screenshots (docs/evaluation.md) of the evaluation page, the rating page and the MOS table
with headless Chromium.

    python docs/screenshots.py runs/demo     # a finished `hifigan demo` output folder

The listening study is made from the demo's reference/, start/ and generated/ folders in a temporary folder;
its ratings come from five scripted raters and a browser that rates three clips (for the picture only, not a
real test); the MOS report of them is printed. Needs chromium and
chromium-driver (Debian) and the dev extra (selenium).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from browser import chrome, find_browser, full_page_png, wait_for  # noqa: E402
from listen_server import call, start_rater, start_server  # noqa: E402

# scripted scores per system: the recordings high, the end of training in between, the untrained start low
SCRIPT = {"reference": [5, 5, 4, 5, 4], "end": [2, 3, 2, 3, 2], "start": [1, 1, 2, 1, 1]}


def small_png(path: Path, max_height: int | None = None) -> None:
    """Palette PNG (256 colours), cut at `max_height` pixels: a fraction of the size, no visible change."""
    from PIL import Image

    image = Image.open(path).convert("RGB")
    if max_height is not None and image.height > max_height:
        image = image.crop((0, 0, image.width, max_height))
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)


def main(demo: Path, out: Path = ROOT / "docs") -> None:
    found = find_browser()
    if isinstance(found, str):
        sys.exit(found)
    driver = chrome(*found, width=1200, height=900)
    try:
        driver.get((demo / "evaluation.html").resolve().as_uri())
        full_page_png(driver, out / "evaluation-page.png", 1200)

        with tempfile.TemporaryDirectory() as tmp:
            server = start_server("--reference", demo / "reference", "--system", f"start={demo / 'start'}",
                                  "--system", f"end={demo / 'generated'}", "--out", Path(tmp) / "study")
            try:
                for i in range(5):
                    api = f"{server.url}api/{start_rater(server.url, f'rater {i + 1}')}/"
                    while not (nxt := call(api + "next")[1])["done"]:
                        call(api + "played", {"trial": nxt["trial"]})
                        system = _system(Path(tmp) / "study", nxt["trial"])
                        call(api + "rate", {"trial": nxt["trial"], "score": SCRIPT[system][i]})
                driver.set_window_size(900, 620)
                driver.get(server.url)
                driver.find_element("id", "name").send_keys("Ada")
                driver.find_element("id", "begin").click()
                wait_for(lambda: driver.find_elements("id", "play"), what="the rating page")
                for _ in range(3):  # be a few clips in
                    driver.find_element("id", "play").click()
                    wait_for(lambda: driver.find_element("id", "scores").get_attribute("disabled") is None,
                             timeout=60, what="the clip to end")
                    driver.find_element("css selector", "input[value='4']").find_element("xpath", "..").click()
                    before = driver.execute_script("return document.querySelector('p.meta').innerText")
                    driver.find_element("id", "submit").click()
                    wait_for(lambda b=before: driver.execute_script(
                        "const e = document.querySelector('p.meta'); return e && e.innerText") not in (None, b),
                        what="the next clip")
                driver.find_element("id", "play").click()
                wait_for(lambda: driver.find_element("id", "scores").get_attribute("disabled") is None, timeout=60,
                         what="the clip to end")
                driver.find_element("css selector", "input[value='4']").find_element("xpath", "..").click()
                driver.save_screenshot(str(out / "rating-page.png"))
                driver.get(server.results)
                full_page_png(driver, out / "mos-table.png", 900)
                from hifigan.cli import main as hifigan

                hifigan(["listen", "--report", str(Path(tmp) / "study"), "--screen-reference-below", "4"])
            finally:
                server.stop()
    finally:
        driver.quit()
    for name, height in (("evaluation-page.png", 1150), ("rating-page.png", None), ("mos-table.png", None)):
        small_png(out / name, height)  # the evaluation page: the summary and the first clip
        print(out / name)


def _system(study: Path, token: str) -> str:
    import contextlib
    import sqlite3

    with contextlib.closing(sqlite3.connect(study / "study.sqlite")) as con:
        return con.execute("SELECT system FROM trials WHERE token = ?", (token,)).fetchone()[0]


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/demo"))
