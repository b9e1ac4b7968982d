"""Smoke test of the live stack: a real browser launches an instance in Horizon.

It proves the browser-test harness end to end before any plugin page is tested
on it: Keystone login, Horizon's AngularJS Launch Instance wizard over the
stack's Glance image, Nova flavor and (stub) network, and the server reaching
ACTIVE in the embedded Nova, checked through Nova's API with a Keystone token.

Needs Debian's chromium and chromedriver (skipped without them). Screenshots go
to ``$SOD_SCREENSHOT_DIR`` (default ``sod-horizon/screenshots/``).
"""

import os
import shutil
import tempfile
import time

import pytest

# Before anything imports oslo.messaging (see sod_nova.cloud._bootstrap).
from sod_horizon.tests.browser import stack as stack_mod

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
CHROME_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
                '--no-first-run', '--disable-background-networking',
                '--disable-component-update', '--disable-sync',
                '--window-size=1400,1000')
SCREENSHOT_DIR = os.environ.get('SOD_SCREENSHOT_DIR') or os.path.join(
    os.path.dirname(stack_mod._PLUGIN_ROOT + '/'), 'screenshots')

_HAVE_BROWSER = os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)
_NO_BROWSER = 'needs %s and %s (Debian packages chromium, chromium-driver)' % (
    CHROMIUM, CHROMEDRIVER)
# Skipped without a browser, unless SOD_REQUIRE_BROWSER is set (tox -e horizon):
# then a missing browser fails, so CI cannot pass without the test running.
pytestmark = pytest.mark.skipif(
    not _HAVE_BROWSER and not os.environ.get('SOD_REQUIRE_BROWSER'), reason=_NO_BROWSER)


@pytest.fixture(scope='module')
def live_stack():
    start = time.monotonic()
    # SOD_KEEP_STACK=1 keeps the stack's directory (configs, service logs).
    with stack_mod.LiveStack(keep_dir=bool(os.environ.get('SOD_KEEP_STACK'))) as stack:
        print('stack directory: %s' % stack.dir)
        print('\nLiveStack up in %.1f s: %s' % (time.monotonic() - start, stack.timings))
        yield stack


@pytest.fixture
def browser():
    if not _HAVE_BROWSER:
        pytest.fail(_NO_BROWSER + ' (SOD_REQUIRE_BROWSER is set)')
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


class _Steps:
    """Selenium helpers: explicit waits, a screenshot per named step, timings.

    Explicit waits only: Horizon's pages are AngularJS, filled in after load.
    """

    def __init__(self, driver, timeout=30):
        from selenium.webdriver.support.ui import WebDriverWait
        self.driver = driver
        self.wait = WebDriverWait(driver, timeout)
        self.start = time.monotonic()
        os.makedirs(SCREENSHOT_DIR, exist_ok=True)

    def shot(self, name):
        path = os.path.join(SCREENSHOT_DIR, 'stack-smoke-%s.png' % name)
        self.driver.save_screenshot(path)
        print('%6.1f s  %s (%s)' % (time.monotonic() - self.start, name, path))

    def visible(self, xpath):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        return self.wait.until(ec.visibility_of_element_located((By.XPATH, xpath)))

    def click(self, xpath):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        element = self.wait.until(ec.element_to_be_clickable((By.XPATH, xpath)))
        element.click()
        return element


def test_launch_instance_in_horizon_boots_in_nova(live_stack, browser):
    steps = _Steps(browser)
    name = 'smoke-vm'
    try:
        browser.get(live_stack.horizon_url + 'auth/login/')
        steps.visible("//input[@id='id_username']").send_keys(live_stack.admin_username)
        browser.find_element('id', 'id_password').send_keys(live_stack.admin_password)
        steps.click("//button[@id='loginBtn']")
        steps.visible("//*[contains(@class, 'navbar')]")
        steps.shot('1-logged-in')

        browser.get(live_stack.horizon_url + 'project/instances/')
        steps.click("//*[@id='instances__action_launch-ng']")
        steps.visible("//input[@id='name']").send_keys(name)
        steps.shot('2-details')

        steps.click("//*[contains(@class, 'wizard-nav')]//a[contains(., 'Source')]")
        steps.click("//tr[.//td[normalize-space()='%s']]//button" % live_stack.image_name)
        steps.shot('3-source')

        steps.click("//*[contains(@class, 'wizard-nav')]//a[contains(., 'Flavor')]")
        steps.click("//tr[.//td[normalize-space()='%s']]//button" % live_stack.flavor_name)
        steps.shot('4-flavor')

        steps.click("//*[contains(@class, 'wizard-nav')]//a[contains(., 'Networks')]")
        steps.visible("//*[contains(@class, 'wizard-nav')]")
        steps.shot('5-networks')

        steps.click("//button[contains(@class, 'finish')]")
        steps.visible("//table[@id='instances']//a[normalize-space()='%s']" % name)
        steps.shot('6-launched')
    except Exception:
        steps.shot('failure')
        raise

    compute = live_stack.connection().compute
    deadline = time.monotonic() + 60
    server = compute.find_server(name, ignore_missing=False)
    while server.status not in ('ACTIVE', 'ERROR') and time.monotonic() < deadline:
        time.sleep(0.5)
        server = compute.get_server(server.id)
    print('%6.1f s  server %s %s on %s' % (time.monotonic() - steps.start, server.id,
                                           server.status, server.compute_host))
    assert server.status == 'ACTIVE', server.fault
    assert server.image.id == live_stack.image_id
    assert server.compute_host in live_stack.compute_hosts
    browser.get(live_stack.horizon_url + 'project/instances/')
    steps.visible("//table[@id='instances']//tr[contains(., '%s')]" % name)
    steps.shot('7-active')
