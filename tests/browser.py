"""Opening an HTML file in the system's headless Chromium (``/usr/bin/chromium``, installed by
``.ci/run``) through Playwright, for the tests of ``nationcap report``.

Without Chromium the browser tests are skipped with the reason, except in CI (the ``CI``
environment variable set), where a missing browser is a failure: CI installs it.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nationcap.tools.bench import CHROMIUM, CHROMIUM_FLAGS

#: the system's Chromium and the flags that run it headless without a sandbox, GPU or background
#: network traffic: the ones `nationcap bench --explore` uses (one list for both); for a report
#: opened as a file, also --allow-file-access-from-files: Chromium 150 logs a console error
#: ("Unsafe attempt to load URL file://... 'file:' URLs are treated as unique security origins")
#: when DevTools' CSS domain inspects the fonts of a file:// page, a message of the browser's own
#: inspection, not of the page (the requests the page makes are still recorded and checked)
FLAGS = [*CHROMIUM_FLAGS, "--allow-file-access-from-files"]


def need_chromium() -> None:
    """Skip without Chromium (fail instead in CI, which installs it)."""
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: install the Debian package chromium (.ci/run does)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Loaded:
    """What a page did while loading: console messages, uncaught errors, requested URLs, a
    screenshot (PNG bytes), its text, and the fonts Chromium rendered chosen nodes with."""

    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    screenshot: bytes = b""
    text: str = ""
    fonts: dict[str, list[dict]] = field(default_factory=dict)
    pdf: bytes = b""
    #: (decoded, natural width) of every image, and a screenshot of each figure's image
    images: list[tuple[bool, int]] = field(default_factory=list)
    figure_shots: list[bytes] = field(default_factory=list)


def load_page(path: Path, font_selectors: tuple[str, ...] = ("h1",)) -> Loaded:
    """Open ``path`` (a file URL) in headless Chromium with a fresh profile and record what it
    did; ``fonts[selector]`` lists the platform fonts that rendered the first matching node
    (DevTools' CSS.getPlatformFontsForNode); ``pdf`` is the page printed to PDF."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    out = Loaded()
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=FLAGS, viewport={"width": 1200, "height": 1600}
        )
        try:
            page = context.new_page()
            page.on("console", lambda m: out.console.append((m.type, m.text)))
            page.on("pageerror", lambda e: out.errors.append(str(e)))
            page.on("request", lambda r: out.requests.append(r.url))
            page.goto(path.resolve().as_uri(), wait_until="load")
            page.evaluate("document.fonts.ready.then(() => true)")
            out.screenshot = page.screenshot(full_page=False)
            out.text = page.inner_text("body")
            out.images = [
                tuple(x) for x in page.evaluate("[...document.images].map(i => [i.complete, i.naturalWidth])")
            ]
            out.figure_shots = [img.screenshot() for img in page.query_selector_all("figure img")[:3]]
            cdp = context.new_cdp_session(page)
            cdp.send("DOM.enable")
            cdp.send("CSS.enable")
            root = cdp.send("DOM.getDocument")["root"]["nodeId"]
            for sel in font_selectors:
                node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": sel})["nodeId"]
                out.fonts[sel] = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"] if node else []
            out.pdf = page.pdf(format="A4")
        finally:
            context.close()
    return out


def pixel_spread(png: bytes) -> float:
    """Standard deviation of the grey levels of a PNG: 0 for a blank (single-colour) image."""
    import io

    import numpy as np
    from matplotlib import image

    pixels = image.imread(io.BytesIO(png), format="png")
    grey = pixels[..., :3].mean(axis=-1) if pixels.ndim == 3 else pixels
    return float(np.std(grey))
