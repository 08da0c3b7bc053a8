"""The web page end to end in headless Debian chromium, driven by Playwright: search, ask, follow a citation.

Playwright's own browser download is never used: the test launches the system `/usr/bin/chromium`
(CI installs it in .ci/run) and skips with the reason when it is absent.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("ADAPTLAB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def page():
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium; CI installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (the dev extra)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1100, "height": 900})
        finally:
            browser.close()


def test_search_ask_and_follow_a_citation(page, served: str, tmp_path: Path) -> None:
    page.goto(served + "/")
    page.wait_for_function("document.getElementById('status').textContent.includes('Dokumente')")

    page.fill("#query", "Wer legt Mindestabstände zu Wohngebieten fest?")
    page.select_option("#mode", "bm25")
    page.select_option("#lang", "de")
    page.click("#search-btn")
    page.wait_for_selector("#results li .score")
    results = page.inner_text("#results")
    assert "Mindestabstände" in results and "windenergie.md" in results  # umlauts survive the round trip

    page.click("#ask-btn")
    page.wait_for_selector("#answer-text a.cite", timeout=60_000)
    assert "extraktiv" in page.inner_text("#answer-kind")
    link = page.locator("#answer-text a.cite").first
    n = link.get_attribute("data-source")
    link.click()
    source = page.locator(f"#source-{n}")
    assert "target" in (source.get_attribute("class") or "")
    assert "windenergie.md" in source.inner_text()

    shot = tmp_path / "web-ui.png"
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000
