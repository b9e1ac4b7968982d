"""Django application of the plugin: registers its REST views at start-up."""

from django.apps import AppConfig


class SodHorizonConfig(AppConfig):
    name = 'sod_horizon'
    verbose_name = 'Security on Demand'

    def ready(self):
        # Horizon serves every view registered in openstack_dashboard's REST
        # URL list; importing the module registers ours there.
        from sod_horizon.api import rest  # noqa: F401
