"""OpenStackClient plugin hooks (entry point ``openstack.cli.extension``).

The service is found in the Keystone catalog under the service type
``security-on-demand`` (``--os-security-on-demand-url`` names it directly);
``--os-sod-api-version`` names the API version, by default negotiated.
"""

import os

from keystoneauth1 import adapter

from sod_nova.osc import client

API_NAME = 'security_on_demand'
API_VERSION_OPTION = 'os_sod_api_version'
#: The major version alone: negotiate the newest 1.x both sides know (OSC
#: takes the command group, ``openstack.security_on_demand.v1``, from it).
DEFAULT_API_VERSION = '1'
API_VERSIONS = {'1': 'sod_nova.osc.client.Client'}
URL_OPTION = 'security_on_demand_url'


def check_api_version(version):
    """OSC's hook: refuse a version this client does not read before any
    command runs (the server's range is checked when it is first asked)."""
    client.check_version(version)
    return True


def make_client(instance):
    """The sod-nova-api client of an OSC ``ClientManager``: an Adapter for
    the manager's session, interface and region."""
    config = instance.get_configuration()
    endpoint = (config.get(URL_OPTION) or os.environ.get('OS_SECURITY_ON_DEMAND_URL')
                or config.get('security_on_demand_endpoint_override'))
    return client.Client(adapter.Adapter(
        session=instance.session, service_type=client.SERVICE_TYPE,
        interface=instance.interface, region_name=instance.region_name,
        endpoint_override=endpoint), instance._api_version[API_NAME])


def build_option_parser(parser):
    parser.add_argument(
        '--os-sod-api-version',
        metavar='<version>',
        default=os.environ.get('OS_SOD_API_VERSION', DEFAULT_API_VERSION),
        help='sod-nova API version, e.g. %s (default: the newest both the API '
             'and this client know; env: OS_SOD_API_VERSION)'
             % client.MAX_VERSION)
    parser.add_argument(
        '--os-security-on-demand-url',
        metavar='<url>',
        default=os.environ.get('OS_SECURITY_ON_DEMAND_URL'),
        help='sod-nova API endpoint, instead of the one in the service '
             'catalog (env: OS_SECURITY_ON_DEMAND_URL)')
    return parser
