"""[DEFAULT] options of sod-nova's own that every service reads at start: none.

oslo.messaging's and oslo.log's [DEFAULT] options are theirs, registered by
:mod:`sod_nova.trust.rpc` and the service scripts. Whether a service may run
on the in-memory transport is no option: the simulator decides it
(:mod:`sod_nova.cloud.lone_service`).
"""

service_opts = []


def register_opts(conf):
    conf.register_opts(service_opts)


def list_opts():
    return {'DEFAULT': service_opts}
