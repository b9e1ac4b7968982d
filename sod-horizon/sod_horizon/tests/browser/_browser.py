"""Browser-test helpers: Debian chromium under Selenium, and step helpers.

``conftest.py`` imports this before the test modules, so the stack module
(which must come before anything imports oslo.messaging) is imported first.
"""

import contextlib
import os
import shutil
import tempfile
import time

import pytest

from sod_horizon.tests.browser import stack as stack_mod  # noqa: I001 (first)

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
CHROME_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
                '--no-first-run', '--disable-background-networking',
                '--disable-component-update', '--disable-sync',
                '--window-size=1400,1000')
SCREENSHOT_DIR = os.environ.get('SOD_SCREENSHOT_DIR') or os.path.join(
    stack_mod._PLUGIN_ROOT, 'screenshots')

NO_BROWSER = ('needs %s and %s (Debian packages chromium, chromium-driver): '
              'run tools/ensure-browser as root (tox -e horizon does)' % (
                  CHROMIUM, CHROMEDRIVER))


def require_browser():
    """Fail (never skip) with the reason when chromium cannot run here."""
    if not all(os.access(path, os.X_OK) for path in (CHROMIUM, CHROMEDRIVER)):
        pytest.fail(NO_BROWSER)


@contextlib.contextmanager
def chromium():
    """A headless Debian chromium with its own empty profile (a person)."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix='sod-chromium-')
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS + ('--user-data-dir=%s' % profile,):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser():
    with chromium() as driver:
        yield driver


class Steps:
    """Selenium helpers: explicit waits, a named screenshot per step, timings.

    Explicit waits only: Horizon's pages are AngularJS, filled in after load.
    """

    def __init__(self, driver, prefix, timeout=30):
        from selenium.webdriver.support.ui import WebDriverWait
        self.driver = driver
        self.prefix = prefix
        self.timeout = timeout
        self.wait = WebDriverWait(driver, timeout)
        self.start = time.monotonic()
        os.makedirs(SCREENSHOT_DIR, exist_ok=True)

    def shot(self, name):
        path = os.path.join(SCREENSHOT_DIR, '%s-%s.png' % (self.prefix, name))
        self.driver.save_screenshot(path)
        print('%6.1f s  %s (%s)' % (time.monotonic() - self.start, name, path))
        return path

    def visible(self, xpath, timeout=None):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait
        wait = WebDriverWait(self.driver, timeout) if timeout else self.wait
        return wait.until(ec.visibility_of_element_located((By.XPATH, xpath)))

    def shown(self, xpath):
        """The first *displayed* match (Horizon keeps hidden copies of some
        widgets in the page)."""
        from selenium.webdriver.common.by import By
        return self.wait.until(lambda d: next(
            (e for e in d.find_elements(By.XPATH, xpath) if e.is_displayed()),
            False))

    def click(self, xpath):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        element = self.wait.until(ec.element_to_be_clickable((By.XPATH, xpath)))
        element.click()
        return element

    def login(self, stack, username, password):
        self.driver.get(stack.horizon_url + 'auth/login/')
        self.visible("//input[@id='id_username']").send_keys(username)
        self.driver.find_element('id', 'id_password').send_keys(password)
        self.click("//button[@id='loginBtn']")
        self.visible("//*[contains(@class, 'navbar')]")

    def wizard_step(self, title):
        self.click("//*[contains(@class, 'wizard-nav')]//a[contains(., '%s')]"
                   % title)

    def pick_row(self, text):
        """Allocate the wizard's table row whose cell reads ``text``."""
        self.click("//tr[.//td[normalize-space()='%s']]//button" % text)


def wait_for(predicate, timeout=60, interval=0.5, what='condition'):
    """Poll ``predicate`` until it returns a true value; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %d s waiting for %s'
                                 % (timeout, what))
        time.sleep(interval)
