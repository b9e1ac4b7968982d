# Project > Compute > Instance Security: each VM's requested security,
# whether it is compliant now, and "Change Security".
PANEL = 'instance_security'
PANEL_DASHBOARD = 'project'
PANEL_GROUP = 'compute'
ADD_PANEL = ('sod_horizon.content.instance_security.panel.InstanceSecurity')
# ... and a "Security" tab on Project > Instances > instance details.
EXTRA_TABS = {
    'openstack_dashboard.dashboards.project.instances.tabs.InstanceDetailTabs': (
        'sod_horizon.content.instance_security.tabs.SecurityTab',
    ),
}
