"""OpenStackClient plugin hooks (entry point ``openstack.cli.extension``).

The service is found in the Keystone catalog under the service type
``security-on-demand``; ``--os-security-on-demand-url`` (or
``OS_SECURITY_ON_DEMAND_URL``) names it directly instead.
"""

import os

from sod_nova.osc import client

DEFAULT_API_VERSION = '1'
API_VERSION_OPTION = 'os_security_on_demand_api_version'
API_NAME = 'security_on_demand'
API_VERSIONS = {'1': 'sod_nova.osc.client.Client'}


def make_client(instance):
    """The sod-nova-api client of an OSC ``ClientManager``."""
    endpoint = instance.get_configuration().get(
        'security_on_demand_url') or os.environ.get(
            'OS_SECURITY_ON_DEMAND_URL')
    if not endpoint:
        endpoint = instance.get_endpoint_for_service_type(
            client.SERVICE_TYPE, region_name=instance.region_name,
            interface=instance.interface)
    return client.Client(instance.session, endpoint)


def build_option_parser(parser):
    parser.add_argument(
        '--os-security-on-demand-api-version',
        metavar='<version>',
        default=os.environ.get('OS_SECURITY_ON_DEMAND_API_VERSION',
                               DEFAULT_API_VERSION),
        help='sod-nova API version (default: %s; env: '
             'OS_SECURITY_ON_DEMAND_API_VERSION)' % DEFAULT_API_VERSION)
    parser.add_argument(
        '--os-security-on-demand-url',
        metavar='<url>',
        default=os.environ.get('OS_SECURITY_ON_DEMAND_URL'),
        help='sod-nova API endpoint, instead of the one in the service '
             'catalog (env: OS_SECURITY_ON_DEMAND_URL)')
    return parser
