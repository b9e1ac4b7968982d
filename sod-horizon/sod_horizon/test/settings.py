"""Django settings for the plugin's tests: Horizon's own test settings with
the plugin's enabled files applied the way an operator's local/enabled would.
"""

from openstack_dashboard import enabled as dashboard_enabled
from openstack_dashboard.test import settings as _base
from openstack_dashboard.test.settings import *  # noqa: F403
from openstack_dashboard.utils import settings as settings_utils

from sod_horizon import enabled as sod_enabled

# Horizon's test settings already applied openstack_dashboard.enabled; apply
# it again together with the plugin's files, from the same starting point.
INSTALLED_APPS = [a for a in _base.INSTALLED_APPS
                  if a not in _base.HORIZON_CONFIG.get('plugins', [])]
for _key in ('angular_modules', 'js_files', 'js_spec_files', 'scss_files',
             'xstatic_modules', 'plugins'):
    HORIZON_CONFIG[_key] = []  # noqa: F405
settings_utils.update_dashboards([dashboard_enabled, sod_enabled],
                                 HORIZON_CONFIG, INSTALLED_APPS)  # noqa: F405
settings_utils.find_static_files(HORIZON_CONFIG, AVAILABLE_THEMES,  # noqa: F405
                                 THEME_COLLECTION_DIR, ROOT_PATH)  # noqa: F405

# sod-nova-api: the unit tests' conftest serves the real one in-process and
# points SOD_API_URL at it; production finds it in the service catalog.
SOD_API_URL = None
