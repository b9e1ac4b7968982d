"""``sod-trust-agent``: the trust agent (TMc) of one compute host."""

import sys

from sod_nova import hostname
from sod_nova.cmd import common
import sod_nova.conf
from sod_nova.trust import backends
from sod_nova.trust import keys
from sod_nova.trust import platform
from sod_nova.trust.agent import service

CONF = sod_nova.conf.CONF


def main(argv=None):
    common.parse_args('sod-trust-agent', argv)
    trust = CONF.sod_trust
    try:
        hostname.check(trust.host, '[sod_trust] host')
    except hostname.InvalidHostName as exc:
        sys.exit('sod-trust-agent: %s' % exc)
    if not trust.private_key_file:
        sys.exit('sod-trust-agent: set [sod_trust] private_key_file')
    try:
        key = keys.load_or_create_private_key(trust.private_key_file)
        backend = backends.load(trust.backend, trust.architecture)
        challenge_keys = service.load_challenge_keys(CONF)
        reader = None
        if trust.libvirt_uri:
            reader = platform.LibvirtPlatform(trust.libvirt_uri,
                                              trust.libvirt_virt_type)
            reader.capabilities()
    except (ValueError, OSError, RuntimeError) as exc:
        sys.exit('sod-trust-agent: %s' % exc)
    common.require_transport('sod-trust-agent', notification_transport=False)
    print('%s: public key %s (%s)' % (trust.host, keys.public_key_text(key),
                                      backend.architecture_type), flush=True)
    for name, value in sorted(backend.identity().items()):
        # What else the operator enrolls, e.g. "tpm_ek <base64>" for
        # sod-nova trust enroll --tpm-ek.
        print('%s: %s %s' % (trust.host, name, value), flush=True)
    agent = service.TrustAgent(CONF, trust.host, backend, key,
                               enrollment_token=trust.enrollment_token,
                               platform=reader, challenge_keys=challenge_keys)
    return common.serve('sod-trust-agent', agent)


if __name__ == '__main__':
    sys.exit(main())
