# Admin > System > Security on Demand: host trust states, VMs parked for
# want of a compliant host, and the relocation audit trail.
PANEL = 'security_on_demand'
PANEL_DASHBOARD = 'admin'
PANEL_GROUP = 'admin'
ADD_PANEL = ('sod_horizon.content.security_on_demand.panel.SecurityOnDemand')
