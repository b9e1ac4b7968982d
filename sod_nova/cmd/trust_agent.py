"""``sod-trust-agent``: the trust agent (TMc) of one compute host."""

import signal
import sys
import threading

from oslo_log import log as logging

from sod_nova import version
import sod_nova.conf
from sod_nova.trust import backends
from sod_nova.trust import keys
from sod_nova.trust.agent import service

CONF = sod_nova.conf.CONF


def main(argv=None):
    logging.register_options(CONF)
    CONF(sys.argv[1:] if argv is None else argv, project='sod_nova',
         prog='sod-trust-agent', version=version.version_string())
    logging.setup(CONF, 'sod-trust-agent')
    trust = CONF.trust
    if not trust.private_key_file:
        sys.exit('sod-trust-agent: set [trust] private_key_file')
    try:
        key = keys.load_or_create_private_key(trust.private_key_file)
        backend = backends.load(trust.backend, trust.architecture)
    except (ValueError, OSError, RuntimeError) as exc:
        sys.exit('sod-trust-agent: %s' % exc)
    print('%s: public key %s (%s)' % (trust.host, keys.public_key_text(key),
                                      backend.architecture_type), flush=True)
    agent = service.TrustAgent(CONF, trust.host, backend, key,
                               enrollment_token=trust.enrollment_token)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    agent.start()
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    agent.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
