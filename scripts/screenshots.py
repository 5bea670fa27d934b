"""Screenshots for scripts/screenshots.sh: each page in headless Chromium (Debian's chromium and
chromedriver, driven by selenium, as tests/test_browser.py does), at a given width, from the top
or from an element down. Usage: screenshots.py OUTDIR NAME=WIDTH=URL[#element-id] ..."""

from __future__ import annotations

import base64
import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

HEIGHT = 1400


def main(out: Path, shots: list[str]) -> None:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as profile:
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                     "--force-device-scale-factor=1", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            for shot in shots:
                name, width, url = shot.split("=", 2)
                page, _hash, element = url.partition("#")
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                       {"width": int(width), "height": HEIGHT, "deviceScaleFactor": 1, "mobile": int(width) < 800})
                driver.get(page)
                driver.execute_async_script("document.fonts.ready.then(() => arguments[arguments.length - 1](true));")
                top = driver.execute_script(
                    "const e = document.getElementById(arguments[0]); return e ? e.getBoundingClientRect().top + scrollY - 16 : 0;", element)
                clip = {"x": 0, "y": max(top, 0), "width": int(width), "height": HEIGHT, "scale": 1}
                data = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True})
                path = out / f"{name}.png"
                path.write_bytes(base64.b64decode(data["data"]))
                print(path)
        finally:
            driver.quit()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
