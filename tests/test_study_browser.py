"""A rater in Debian's Chromium (Playwright, no browser download) against the real server on 127.0.0.1."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from sonosynth.study import db
from sonosynth.study.create import StudyOptions, create_study
from sonosynth.study.loadgen import StudyServer, write_demo_clips

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).parent / "artifacts"


def poll(page, expr: str, timeout: float = 15.0):
    """Evaluate until truthy (wait_for_function would need eval, which the page's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expr)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {expr}")


def test_rater_plays_answers_resumes_and_admin_sees_accuracy(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed (scripts/ensure-browser.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    write_demo_clips(tmp_path / "real", 3, False, size=96, frames=30)
    write_demo_clips(tmp_path / "syn", 3, True, size=96, frames=30)
    study = create_study(tmp_path / "real", tmp_path / "syn", tmp_path / "s", StudyOptions(raters=1, seed=5))
    c = db.open_study(study)
    token, admin = db.raters(c)[0]["token"], db.meta(c)["admin_token"]
    key = {r["media_id"]: r["synthetic"] for r in c.execute("SELECT media_id, synthetic FROM cases")}
    c.close()
    ARTIFACTS.mkdir(exist_ok=True)
    with StudyServer(study, tmp_path / "server.log") as server, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(f"{server.url}/r/{token}/")
        correct, sent = 0, {}
        for i in range(6):
            poll(page, "document.getElementById('clip').readyState >= 2 && document.getElementById('clip').videoWidth > 0")
            t0 = page.evaluate("document.getElementById('clip').currentTime")
            poll(page, f"document.getElementById('clip').currentTime > {t0} + 0.2")  # it plays
            lit = page.evaluate("""(() => { const v = document.getElementById('clip'); const c = document.createElement('canvas');
                c.width = v.videoWidth; c.height = v.videoHeight; const g = c.getContext('2d'); g.drawImage(v, 0, 0);
                const d = g.getImageData(0, 0, c.width, c.height).data; let s = 0; for (let k = 0; k < d.length; k += 4) s += d[k];
                return s / (d.length / 4); })()""")
            assert lit > 20, "decoded frame is blank"
            case = page.evaluate("document.getElementById('clip').getAttribute('src')").split("/")[-1][:-4]
            answer_synthetic = i % 2 == 0  # right on even cases, by the key
            says = key[case] if answer_synthetic else 1 - key[case]
            correct += says == key[case]
            sent[case] = (says, 2, 4) if i % 2 else (says, 3, 3)
            if i % 2:  # mouse
                page.click(f'[data-group="verdict"] button[data-value="{"synthetic" if says else "real"}"]')
                page.click('[data-group="confidence"] button[data-value="2"]')
                page.click('[data-group="realism"] button[data-value="4"]')
                page.click("#submit")
            else:  # keyboard
                page.keyboard.press("s" if says else "r")
                page.keyboard.press("h")
                page.keyboard.press("3")
                if i == 0:
                    page.screenshot(path=str(ARTIFACTS / "study_rater.png"))
                page.keyboard.press("Enter")
            poll(page, f"document.getElementById('progress').value == {i + 1}")
            if i == 2:  # stop and come back: resume at case 4
                page.reload()
                poll(page, "document.getElementById('case-label').textContent.startsWith('Case 4 of 6')")
        poll(page, "!document.getElementById('done').hidden")
        page.goto(f"{server.url}/admin/{admin}/")
        text = page.inner_text("#overall-accuracy")
        assert text.startswith(f"{100 * correct / 6:.1f} %") and f"({correct}/6;" in text
        poll(page, "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)", timeout=60)
        page.screenshot(path=str(ARTIFACTS / "study_results.png"), full_page=True)
        browser.close()
    c = db.open_study(study)
    stored = {r["media_id"]: (r["says_synthetic"], r["confidence"], r["realism"]) for r in c.execute(
        "SELECT media_id, says_synthetic, confidence, realism FROM answers JOIN cases ON cases.id = answers.case_id")}
    c.close()
    assert stored == sent  # one answer per case, as the mouse and the keys gave it (h: high confidence)
