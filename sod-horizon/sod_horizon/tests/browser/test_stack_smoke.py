"""Smoke test of the live stack: a real browser launches an instance in Horizon.

It proves the browser-test harness end to end before any plugin page is tested
on it: Keystone login, Horizon's AngularJS Launch Instance wizard over the
stack's Glance image, Nova flavor and (stub) network, and the server reaching
ACTIVE in the embedded Nova, checked through Nova's API with a Keystone token.

Needs Debian's chromium and chromedriver (skipped without them). Screenshots go
to ``$SOD_SCREENSHOT_DIR`` (default ``sod-horizon/screenshots/``).
"""

import os
import time

import pytest

from sod_horizon.tests.browser import stack as stack_mod
from sod_horizon.tests.browser._browser import Steps


@pytest.fixture(scope='module')
def live_stack():
    start = time.monotonic()
    # SOD_KEEP_STACK=1 keeps the stack's directory (configs, service logs).
    with stack_mod.LiveStack(keep_dir=bool(os.environ.get('SOD_KEEP_STACK'))) as stack:
        print('stack directory: %s' % stack.dir)
        print('\nLiveStack up in %.1f s: %s' % (time.monotonic() - start, stack.timings))
        yield stack


def test_launch_instance_in_horizon_boots_in_nova(live_stack, browser):
    steps = Steps(browser, 'stack-smoke')
    name = 'smoke-vm'
    try:
        steps.login(live_stack, live_stack.admin_username, live_stack.admin_password)
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
