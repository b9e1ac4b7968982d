# The plugin's Django app and its AngularJS module (the Launch Instance
# "Security" step). Copy or link the three _90*_ files into
# openstack_dashboard/local/enabled/ to enable the plugin.
FEATURE = 'sod_nova'
ADD_INSTALLED_APPS = ['sod_horizon']
ADD_ANGULAR_MODULES = ['horizon.dashboard.sod']
AUTO_DISCOVER_STATIC_FILES = True
