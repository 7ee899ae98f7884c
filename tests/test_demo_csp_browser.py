"""The demo page works under its content security policy: headless Chromium generates a clip, plays it,
runs the probes, and the browser reports no policy violation."""
from __future__ import annotations

import pytest

from sorakit import demo

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PLAYING = """() => {
    const v = document.querySelector('#clip video');
    return v !== null && v.readyState >= 2 && !v.paused && v.currentTime > 0;
}"""
COLLECT = """window.__csp = [];
document.addEventListener('securitypolicyviolation',
                          e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"""


def test_the_page_works_under_its_security_policy(chromium, tiny_pipe):
    app = demo.launch(tiny_pipe, prevent_thread_lock=True, quiet=True)
    page = chromium.new_page(viewport={"width": 1280, "height": 960})
    console = []
    page.on("console", lambda m: console.append(m.text))
    try:
        page.add_init_script(COLLECT)
        response = page.goto(app.local_url, wait_until="domcontentloaded")
        assert "default-src 'self'" in response.headers["content-security-policy"]
        page.locator("#prompt textarea").wait_for(timeout=60_000)
        page.locator("#prompt textarea").fill("a red ball is thrown to the right")
        page.locator("#generate").click()
        page.wait_for_function(PLAYING, timeout=120_000)
        page.locator("#gallery img").first.wait_for(timeout=30_000)
        page.get_by_role("tab", name="Physics").click()
        page.get_by_role("button", name="Run physics probes").click()
        page.get_by_role("columnheader", name="probe").wait_for(timeout=60_000)
        violations = page.evaluate("window.__csp")
        # Web fonts from Google are allowed; nothing else may have been blocked.
        assert violations == [], violations
        assert not [m for m in console if "Content Security Policy" in m], console
    finally:
        page.close()
        app.close()
