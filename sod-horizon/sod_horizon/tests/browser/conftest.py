"""Fixtures of the browser tests (helpers in ``_browser.py``)."""

import os

import pytest

from sod_horizon.tests.browser import _browser
from sod_horizon.tests.browser._browser import browser  # noqa: F401 (fixture)


def pytest_collection_modifyitems(config, items):
    # Skipped without a browser, unless SOD_REQUIRE_BROWSER is set (tox -e
    # horizon): then a missing browser fails, so CI cannot pass without them.
    if _browser.HAVE_BROWSER or os.environ.get('SOD_REQUIRE_BROWSER'):
        return
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.skip(reason=_browser.NO_BROWSER))
