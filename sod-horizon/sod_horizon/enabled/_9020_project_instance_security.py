# Project > Compute > Instance Security: each VM's requested security,
# whether it is compliant now, and "Change Security".
PANEL = 'instance_security'
PANEL_DASHBOARD = 'project'
PANEL_GROUP = 'compute'
ADD_PANEL = ('sod_horizon.content.instance_security.panel.InstanceSecurity')
