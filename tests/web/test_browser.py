"""The pages in a real headless Chromium (Debian's chromium and chromium-driver) against booru
under gunicorn: sign in and out, search by upload, drop, paste and URL, browse and page, a
hostile title kept inert, a form without its CSRF token refused, the CSP enforced. Saves the
README's screenshots into docs/screenshots/."""
from __future__ import annotations

import base64
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest
import requests

from common.config import PROJECT_ROOT
from tests.web.conftest import HOSTILE_TITLE, Archive, seed_archive

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
MAX_SCREENSHOT_HEIGHT = 1400
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="browser tests need Debian's chromium and chromium-driver (scripts/test installs them when run as root)")


@pytest.fixture
def browser(fakenet_server) -> Iterator[webdriver.Chrome]:
    """A fresh headless Chromium; pictures from https hosts come from the fake internet."""
    profile = tempfile.mkdtemp(prefix="lzb-chromium-")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=1280,900")
    # loopback (booru) is never proxied; the fake internet's certificates come from its own CA
    options.add_argument(f"--proxy-server={fakenet_server.proxy_url}")
    options.add_argument("--ignore-certificate-errors")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def site(live_booru) -> str:
    return live_booru.url.removesuffix("/api")


def show(api, app, fakenet, count: int = 8, thumbnail_size: int = 0) -> Archive:
    """An archive, its pictures served where their URLs point."""
    archive = seed_archive(api, app, count, thumbnail_size)
    for post_id, data in archive.pictures.items():
        fakenet.route("GET", archive.url(post_id), body=data,
                      content_type="image/jpeg" if data.startswith(b"\xff\xd8") else "image/png")
    return archive


THUMBNAIL_SIZE = 256  # smaller than the pictures (320 px wide), so a page can tell which it shows


@pytest.fixture
def shown(api, app, fakenet) -> Archive:
    """An archive whose pictures have stored thumbnails."""
    return show(api, app, fakenet, thumbnail_size=THUMBNAIL_SIZE)


def natural_widths(driver, css: str) -> list[int]:
    WebDriverWait(driver, 20).until(lambda d: images_loaded(d, css))
    return driver.execute_script("return Array.from(document.querySelectorAll(arguments[0])).map(i => i.naturalWidth)", css)


def wait_for(driver, css: str, timeout: float = 30):
    return WebDriverWait(driver, timeout).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)))


def sign_in(driver, site: str, key: str, path: str = "/") -> None:
    driver.get(site + path)
    wait_for(driver, "#key").send_keys(key)
    driver.find_element(By.ID, "login-button").click()
    wait_for(driver, "#sign-out")


def images_loaded(driver, css: str) -> bool:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).every(i => i.complete && i.naturalWidth > 0)", css)


def screenshot(driver, name: str, css: str, max_height: int = MAX_SCREENSHOT_HEIGHT) -> None:
    """Save the README's picture of this page, once its pictures have loaded."""
    WebDriverWait(driver, 20).until(lambda d: images_loaded(d, css))
    width = driver.get_window_size()["width"]
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(height + 100, max_height))  # the page, not just its top (and the frame)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / name))


def result_posts(driver) -> list[str]:
    return result_posts_on(driver, "#results")


def result_posts_on(driver, css: str) -> list[str]:
    return [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, f"{css} .post-title")]


def test_sign_in_and_out(browser, site, live_booru):
    browser.get(site + "/browse")
    assert wait_for(browser, "#login-button") and "Sign in" in browser.title
    wait_for(browser, "#key").send_keys("lzb_wrong")
    browser.find_element(By.ID, "login-button").click()
    # the answer is a new page: wait for its message (a reference taken too early goes stale)
    assert WebDriverWait(browser, 30).until(expected_conditions.text_to_be_present_in_element(
        (By.CSS_SELECTOR, "#login-error"), "unknown or revoked API key"))
    wait_for(browser, "#key").send_keys(live_booru.admin_key)
    browser.find_element(By.ID, "login-button").click()
    wait_for(browser, "#gallery")
    assert browser.current_url == site + "/browse"  # back where the sign-in began
    cookie = browser.get_cookie("lzbooru_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    browser.find_element(By.ID, "sign-out").click()
    wait_for(browser, "#login-button")
    browser.get(site + "/browse")
    assert wait_for(browser, "#login-button")


def test_search_by_upload_shows_every_post_oldest_first(browser, site, live_booru, shown, tmp_path):
    query = tmp_path / "query.png"
    query.write_bytes(shown.pictures["w000"])
    sign_in(browser, site, live_booru.admin_key)
    browser.find_element(By.ID, "image").send_keys(str(query))  # choosing a file starts the search
    wait_for(browser, "#results")
    first, repost = shown.repost
    posts = result_posts(browser)
    assert posts[:2] == [f"https://redd.it/{first}", f"https://redd.it/{repost}"]
    best = browser.find_element(By.CSS_SELECTOR, "#results .result")
    assert best.text.startswith("MATCH\nscore 100") and "r/pics · u/poster0 · 2024-05-01 12:00 UTC" in best.text
    found = browser.find_element(By.ID, "results").text
    assert "r/EarthPorn · u/reposter · 2025-01-02 08:00 UTC" in found
    assert "r/pics · u/resizer · 2025-03-04 18:30 UTC" in found  # the smaller copy, further down
    assert max(natural_widths(browser, "#results img")) == THUMBNAIL_SIZE  # booru's thumbnails, never enlarged
    screenshot(browser, "search-results.png", "#results img")
    browser.set_window_size(412, 915)
    screenshot(browser, "search-results-phone.png", "#results img", max_height=915)
    browser.set_window_size(1280, 900)


def test_search_with_post_filters_and_every_post(browser, site, live_booru, shown, tmp_path):
    query = tmp_path / "query.png"
    query.write_bytes(shown.pictures["w000"])
    sign_in(browser, site, live_booru.admin_key)
    browser.find_element(By.CSS_SELECTOR, "details.filters summary").click()
    browser.find_element(By.ID, "search-subreddit").send_keys("EarthPorn")
    browser.find_element(By.ID, "image").send_keys(str(query))
    wait_for(browser, "#results")
    assert result_posts(browser)[0] == f"https://redd.it/{shown.repost[1]}"
    assert f"https://redd.it/{shown.repost[0]}" not in result_posts(browser)  # posted in r/pics
    assert browser.find_element(By.ID, "search-subreddit").get_attribute("value") == "EarthPorn"
    best = browser.find_element(By.CSS_SELECTOR, "#results .result")
    assert "1 post" in best.text and "match" in best.text.lower()  # its confidence
    browser.get(f"{site}/picture/{shown.images['w000']}/posts")  # every post of the picture, oldest first
    assert "Posted 2 times" in wait_for(browser, "main").text
    assert result_posts_on(browser, ".picture-posts") == [f"https://redd.it/{post}" for post in shown.repost]


def test_search_by_url_link_and_form(browser, site, live_booru, shown, fakenet):
    fakenet.route("GET", "https://i.imgur.com/copy.png", body=shown.pictures["w007"], content_type="image/png")
    sign_in(browser, site, live_booru.admin_key)
    browser.get(site + "/search?url=https://i.imgur.com/copy.png")
    wait_for(browser, "#results")
    assert result_posts(browser)[0] == "https://redd.it/w007"
    browser.get(site + "/")
    wait_for(browser, "#url").send_keys("https://i.imgur.com/copy.png")
    browser.find_element(By.ID, "search-button").click()
    wait_for(browser, "#results")
    assert result_posts(browser)[0] == "https://redd.it/w007"


def test_search_by_dropping_and_pasting(browser, site, live_booru, shown):
    sign_in(browser, site, live_booru.admin_key)
    png = base64.b64encode(shown.pictures["w004"]).decode()
    make_file = ("const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));"
                 "const data = new DataTransfer(); data.items.add(new File([bytes], 'x.png', {type: 'image/png'}));")
    browser.execute_script(make_file + "document.getElementById('drop-zone').dispatchEvent("
                           "new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}));", png)
    wait_for(browser, "#results")
    assert result_posts(browser)[0] == "https://redd.it/w004"
    browser.get(site + "/")
    wait_for(browser, "#drop-zone")
    browser.execute_script(make_file + "document.body.dispatchEvent("
                           "new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));", png)
    wait_for(browser, "#results")
    assert result_posts(browser)[0] == "https://redd.it/w004"


def test_browse_and_page(browser, site, live_booru, api, app, fakenet):
    shown = show(api, app, fakenet, count=53)  # 55 pictures: two pages of 48
    sign_in(browser, site, live_booru.admin_key)
    browser.get(site + "/browse")
    first = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#gallery .card")]
    assert len(first) == 48
    assert max(natural_widths(browser, "#gallery img")) == 320  # no thumbnails: the archived files
    screenshot(browser, "browse.png", "#gallery img", max_height=900)
    browser.find_element(By.ID, "next-page").click()
    wait_for(browser, "#first-page")
    rest = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#gallery .card")]
    assert len(rest) == 7 and not set(first) & set(rest)
    assert not browser.find_elements(By.ID, "next-page")
    # by subreddit, then by tag with a suggestion from the autocomplete
    browser.get(site + "/browse")
    tags = wait_for(browser, "#tags")
    tags.send_keys("lara")
    WebDriverWait(browser, 10).until(lambda d: d.execute_script(
        "return Array.from(document.querySelectorAll('#tag-suggestions option')).map(o => o.value)")
        == ["character:lara_croft"])
    tags.clear()
    tags.send_keys("character:lara_croft")
    browser.find_element(By.ID, "browse-button").click()
    WebDriverWait(browser, 30).until(expected_conditions.url_contains("tags="))  # the old page had a gallery too
    wait_for(browser, "#gallery")
    cards = browser.find_elements(By.CSS_SELECTOR, "#gallery .card")
    assert [c.get_attribute("href") for c in cards] == [f"{site}/image/{shown.images['w000']}"]
    cards[0].click()
    WebDriverWait(browser, 30).until(expected_conditions.url_contains("/image/"))
    assert "Posted 2 times" in wait_for(browser, "main").text
    assert browser.find_element(By.CSS_SELECTOR, ".tags").text.splitlines()[:2] == ["character", "lara_croft"]


def test_hostile_title_is_shown_as_text(browser, site, live_booru, shown):
    sign_in(browser, site, live_booru.admin_key)
    for path in ("/browse", f"/image/{shown.images['w001']}"):
        browser.get(site + path)
        wait_for(browser, "main")
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text
        assert browser.execute_script("return window.pwned") is None
        assert not browser.find_elements(By.CSS_SELECTOR, "main b, main img[src='x']")
    assert browser.find_element(By.ID, "image-title").text == HOSTILE_TITLE


def test_form_without_csrf_token_is_refused(browser, site, live_booru):
    browser.get(site + "/login")
    wait_for(browser, "#key").send_keys(live_booru.admin_key)
    browser.execute_script("document.querySelector('input[name=csrf_token]').remove()")
    browser.find_element(By.ID, "login-button").click()
    assert "CSRF" in wait_for(browser, "#error-message").text
    browser.get(site + "/")
    assert wait_for(browser, "#login-button")  # not signed in


def test_content_security_policy_is_enforced(browser, site, live_booru):
    answer = requests.get(site + "/login", timeout=10)
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    browser.get(site + "/login")
    wait_for(browser, "#key")
    browser.execute_script("const s = document.createElement('script'); s.textContent = 'window.inline = 1;';"
                           "document.body.appendChild(s);")
    assert browser.execute_script("return window.inline") is None  # the browser refused the inline script
