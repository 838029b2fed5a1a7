"""The teacher's page in a real headless browser (Debian's chromium + chromedriver).

A teacher opens the service, signs in with a token, picks a class and reads the class
report: Chinese page, plots that load, only their own classes.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(world):
    """The world's app on a real uvicorn server on loopback (stopped afterwards)."""
    import pandas as pd
    import uvicorn

    from edu_recsys.store.testing import CountsTracer

    pytest.importorskip("edu_recsys.classroom")
    world.client.app.state.serving.ingest(pd.DataFrame(world.answers(60)))
    world.store.save_model(CountsTracer(), name="counts")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(world.client.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path):
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("Debian's chromium and chromium-driver are not installed (.ci/services)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,1600",
        "--lang=zh-CN",
    ):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_teacher_signs_in_and_reads_the_class_report(live_server, browser, world, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 30)
    browser.get(live_server + "/")
    # not signed in: the login page, in Chinese
    assert "/api/v1/login" in browser.current_url
    assert browser.find_element(By.TAG_NAME, "h1").text == "教师登录"
    browser.find_element(By.ID, "token").send_keys("edu_not-a-token")
    browser.find_element(By.ID, "login").click()
    error = wait.until(EC.presence_of_element_located((By.ID, "error")))
    assert "令牌无效" in error.text

    browser.find_element(By.ID, "token").send_keys(world.tokens["teacher"])
    browser.find_element(By.ID, "login").click()
    # the teacher's classes: only their own
    wait.until(EC.url_contains("/api/v1/home"))
    wait.until(EC.presence_of_element_located((By.ID, "classes")))
    links = browser.find_elements(By.CSS_SELECTOR, "#classes a")
    assert [a.text for a in links] == ["八年级1班"]
    links[0].click()

    wait.until(EC.url_contains("/api/v1/classes/c1/dashboard"))
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
    assert browser.execute_script("return document.documentElement.lang") == "zh-CN"
    assert "班级学情报告" in browser.title
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "八年级1班" in body and "有理数" in body  # concept names from the graph
    # the plots are embedded images that actually decode
    sizes = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);"
    )
    assert sizes and all(done and width > 0 for done, width in sizes)
    shot = tmp_path / "dashboard.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

    # another class's page is refused
    browser.get(live_server + "/api/v1/classes/c2/dashboard")
    assert "forbidden" in browser.page_source
    # English on request
    browser.get(live_server + "/api/v1/classes/c1/dashboard?lang=en")
    assert browser.execute_script("return document.documentElement.lang") == "en"
