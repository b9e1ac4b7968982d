"""``openstack`` commands of sod-nova-api 1.x."""
