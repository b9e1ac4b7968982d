"""Fixtures of the browser tests (helpers in ``_browser.py``)."""

import pytest

from sod_horizon.tests.browser import _browser
from sod_horizon.tests.browser._browser import browser  # noqa: F401 (fixture)


@pytest.fixture(scope='session', autouse=True)
def chromium_installed():
    """Without chromium a browser test fails with the reason, as every test
    of a real service does, and before the stack is started for nothing."""
    _browser.require_browser()
