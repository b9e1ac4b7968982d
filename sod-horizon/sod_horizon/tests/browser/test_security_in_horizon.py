"""The plugin in a real browser, on a real small OpenStack.

Horizon 27 with sod-horizon's enabled files, Keystone and Glance in their own
processes, and sod-nova's embedded Nova (SecurityOnDemandFilter enabled)
with a trust agent per host, the trust monitor and the migration manager.
Every page of the plugin reads and writes through sod-nova-api (behind
keystonemiddleware, found in the user's catalog) with the user's token.
A customer (``demo``, no admin role) picks ``medical-records`` in Launch
Instance, sees the server types that satisfy it, launches; Nova's API then
shows the choice in the server's metadata and the server on the only
compliant host, and the customer's pages show it compliant. An attack on
that host leaves no compliant host: the VM is paused, and the admin page
shows the untrusted host, the paused VM and the audit trail.

Screenshots of the three pages are saved in ``$SOD_SCREENSHOT_DIR``.
"""

import os
import time

import pytest

from sod_horizon.tests.browser import stack as stack_mod
from sod_horizon.tests.browser._browser import Steps
from sod_horizon.tests.browser._browser import chromium
from sod_horizon.tests.browser._browser import wait_for

ENABLED = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'enabled')
HOSTS = {'ds-1': 'DataSafe', 'hw-1': 'HyperWall'}
NAME = 'records-vm'


@pytest.fixture(scope='module')
def live_stack():
    start = time.monotonic()
    with stack_mod.LiveStack(
            sod_hosts=HOSTS, horizon_enabled_dirs=[ENABLED],
            keep_dir=bool(os.environ.get('SOD_KEEP_STACK'))) as stack:
        print('\nLiveStack up in %.1f s: %s (%s)' % (
            time.monotonic() - start, stack.timings, stack.dir))
        yield stack


def _server_types(browser):
    rows = browser.find_elements(
        'xpath', "//table[@id='sod-server-types']/tbody/tr")
    return {r.find_elements('tag name', 'td')[0].text:
            [td.text for td in r.find_elements('tag name', 'td')[1:]]
            for r in rows}


def test_launch_with_a_package_then_watch_it_kept_secure(live_stack, browser):
    steps = Steps(browser, 'sod')
    try:
        steps.login(live_stack, live_stack.demo_username,
                    live_stack.demo_password)
        browser.get(live_stack.horizon_url + 'project/instances/')
        steps.click("//*[@id='instances__action_launch-ng']")
        steps.visible("//input[@id='name']").send_keys(NAME)
        steps.wizard_step('Source')
        steps.pick_row(live_stack.image_name)
        steps.wizard_step('Flavor')
        steps.pick_row(live_stack.flavor_name)

        # The Security step, right after Flavor.
        nav = [a.text for a in browser.find_elements(
            'xpath', "//*[contains(@class, 'wizard-nav')]//a")]
        assert nav.index('Security') == nav.index('Flavor') + 1, nav
        steps.wizard_step('Security')

        # Option 3 (hardware attacks) alone: no server here can; said plainly.
        steps.click("//input[@id='sod-option-3']")
        warning = steps.visible("//*[@id='sod-unsatisfiable']")
        assert 'No server in this cloud can satisfy' in warning.text
        assert 'would not be scheduled' in warning.text
        steps.click("//input[@id='sod-option-3']")

        steps.click("//select[@id='sod-package']/option[starts-with("
                    "normalize-space(), 'medical-records ')]")
        steps.visible("//table[@id='sod-server-types']//td[normalize-space()="
                      "'DataSafe']")
        types = _server_types(browser)
        # Bastion and DataSafe satisfy options 1,5,6,7 (Table III); this
        # cloud has one DataSafe host, trusted now, and no Bastion.
        assert types == {'Bastion': ['0', '0'], 'DataSafe': ['1', '1']}, types
        assert not browser.find_elements('id', 'sod-unsatisfiable')
        steps.shot('1-launch-instance-security-step')

        # A key of the customer's own in the Metadata step: the Security
        # step's keys are merged with it, not written over it.
        steps.wizard_step('Metadata')
        custom = steps.shown("//input[@name='customItem']")
        custom.send_keys('purpose')
        custom.find_element('xpath', './following::button[1]').click()
        steps.shown("//input[@ng-model='ctrl.item.leaf.value']").send_keys(
            'billing')

        steps.wizard_step('Networks')
        steps.click("//button[contains(@class, 'finish')]")
        steps.visible("//table[@id='instances']//a[normalize-space()='%s']"
                      % NAME)
    except Exception:
        steps.shot('failure')
        raise

    compute = live_stack.connection().compute  # admin: sees the host
    server = compute.find_server(NAME, ignore_missing=False, all_projects=True)
    server = wait_for(lambda: (lambda s: s if s.status in ('ACTIVE', 'ERROR')
                               else None)(compute.get_server(server.id)),
                      what='the server to boot')
    assert server.status == 'ACTIVE', server.fault
    assert server.metadata == {'sod:package': 'medical-records',
                               'purpose': 'billing'}
    assert server.compute_host == 'ds-1'

    try:
        # Project > Compute > Instance Security: asked for, and compliant
        # (sod-nova-api finds the host; the customer's token sees no name).
        browser.get(live_stack.horizon_url + 'project/instance_security/')
        row = steps.visible("//table[@id='instance_security']//tr[contains(., "
                            "'%s')]" % NAME)
        assert 'C, I against Other VMs' in row.text
        assert 'Yes' in [td.text for td in row.find_elements('tag name', 'td')]
        assert 'ds-1' not in row.text  # the host stays hidden from projects
        steps.shot('2-project-instance-security')
        # ... and the Security tab of Project > Instances > the instance.
        browser.get(live_stack.horizon_url + 'project/instances/%s/'
                    '?tab=instance_details__sod_security' % server.id)
        tab = steps.visible("//*[@id='sod-security-tab']")
        assert 'Compliant Now\nYes' in tab.text, tab.text
        assert steps.visible("//*[@id='sod-compliance-record']")
        steps.shot('2b-project-instance-detail-security-tab')
        browser.get(live_stack.horizon_url + 'admin/security_on_demand/')
        assert not browser.find_elements('xpath', "//table[@id='hosts']")

        # An attack on ds-1: no other host enforces medical-records, so the
        # migration manager pauses the VM and says why.
        live_stack.fleet.backend('ds-1').start_attack()
        wait_for(lambda: compute.get_server(server.id).status == 'PAUSED',
                 what='the VM to be paused')
        with chromium() as operator:  # the cloud's admin, in their own browser
            admin = Steps(operator, 'sod')
            admin.login(live_stack, live_stack.admin_username,
                        live_stack.admin_password)
            operator.get(live_stack.horizon_url + 'admin/security_on_demand/')
            admin.visible("//table[@id='hosts']")
            wait_for(lambda: 'Untrusted' in operator.find_element(
                'xpath', "//table[@id='hosts']//tr[contains(., 'ds-1')]").text
                or operator.refresh(), what='ds-1 shown untrusted')
            hosts = operator.find_element('xpath', "//table[@id='hosts']")
            assert 'hw-1' in hosts.text
            parked = operator.find_element('xpath', "//table[@id='parked']")
            assert server.id in parked.text and NAME in parked.text
            audit = operator.find_element('xpath', "//table[@id='audit']")
            assert 'parked' in audit.text
            assert operator.find_elements('id', 'sod-audit-verified')
            admin.shot('3-admin-security-on-demand')

        # The customer sees why.
        browser.get(live_stack.horizon_url + 'project/instance_security/')
        row = steps.visible("//table[@id='instance_security']//tr[contains(., "
                            "'%s')]" % NAME)
        cells = [td.text for td in row.find_elements('tag name', 'td')]
        assert 'No' in cells and 'PAUSED' in cells, cells
        assert 'its server is untrusted' in row.text, row.text

        # The customer lowers the request to "basic" (option 1), which the
        # HyperWall host enforces: Change Security rewrites the metadata and
        # the migration manager moves the VM there and unpauses it.
        row.find_element('xpath', ".//a[contains(., 'Change Security')]").click()
        steps.click("//select[@id='id_package']/option[@value='basic']")
        steps.click("//div[contains(@class, 'modal-footer')]"
                    "//*[@type='submit']")
        steps.visible("//*[contains(@class, 'alert-success')]")
        moved = wait_for(lambda: (lambda s: s if s.status == 'ACTIVE'
                                  and s.compute_host == 'hw-1' else None)(
            compute.get_server(server.id)), what='the VM moved to hw-1')
        assert moved.metadata == {'sod:package': 'basic', 'purpose': 'billing'}
        browser.get(live_stack.horizon_url + 'project/instance_security/')
        row = steps.visible("//table[@id='instance_security']//tr[contains(., "
                            "'%s')]" % NAME)
        assert 'Yes' in [td.text for td in row.find_elements('tag name', 'td')]
    except Exception:
        steps.shot('failure')
        raise
