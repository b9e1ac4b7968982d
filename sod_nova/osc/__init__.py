"""The openstackclient plugin of sod-nova (``openstack sod ...``,
``openstack server security ...``), a client of sod-nova-api only."""
