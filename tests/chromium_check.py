"""Open a static HTML page in a real headless Chromium and report what loaded.

``check_page(html)`` copies the page next to itself with a small script appended that, after the load event,
records every ``<img>`` (decoded or not) and every ``<video>`` (metadata loaded or error), then runs
``chromium --headless --dump-dom`` with console logging on stderr. Returns the images, the videos and the
console messages (any console message counts: the report itself logs nothing).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

CHECK_SCRIPT = """
<script>
window.addEventListener('load', () => {
  const report = {images: [...document.images].map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0}))};
  const videos = [...document.querySelectorAll('video')];
  Promise.all(videos.map(v => new Promise(done => {
    const finish = ok => done({src: v.getAttribute('src'), ok, width: v.videoWidth, error: v.error ? v.error.code : 0});
    if (v.readyState >= 1) return finish(true);
    v.addEventListener('loadedmetadata', () => finish(true));
    v.addEventListener('error', () => finish(false));
    setTimeout(() => finish(false), 8000);
  }))).then(vs => { report.videos = vs; document.body.setAttribute('data-check', JSON.stringify(report)); });
});
</script>
"""


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def check_page(html_path: Path, timeout_s: float = 90.0) -> dict:
    """``{"images": [...], "videos": [...], "console": [...]}`` for the page at ``html_path`` as Chromium renders it."""
    binary = chromium_binary()
    if binary is None:
        raise RuntimeError("chromium is not installed: apt-get install chromium (make system-deps does it)")
    page = html_path.with_name(f"_check_{html_path.name}")
    page.write_text(html_path.read_text(encoding="utf-8").replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf-8")
    try:
        proc = subprocess.run(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files", "--enable-logging=stderr",
             "--v=0", "--virtual-time-budget=15000", "--dump-dom", page.resolve().as_uri()],
            capture_output=True, check=False, text=True, timeout=timeout_s)
    finally:
        page.unlink()
    match = re.search(r'data-check="([^"]*)"', proc.stdout)
    if match is None:
        raise AssertionError(f"the page never finished its check (rc={proc.returncode}); stderr:\n{proc.stderr[-2000:]}")
    result = json.loads(unescape(match.group(1)))
    result["console"] = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return result
