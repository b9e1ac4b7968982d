"""[sod_attestation] options: the key that signs attestation results (EAR).

sod-nova-api serves each host's verdict as an EAR and the trust monitor
publishes one with each trust change; both sign with this key, and the API
serves its public half as a JWKS so that relying parties verify them.
"""

from oslo_config import cfg

attestation_group = cfg.OptGroup(
    'sod_attestation',
    title='Attestation results',
    help='Signed attestation results (EAR, draft-ietf-rats-ear) of '
         'sod-nova-api and the trust monitor.')

attestation_opts = [
    cfg.StrOpt(
        'signing_key_file',
        help="""
PEM file holding the private key that signs attestation results: an
unencrypted P-256 key (ES256) or Ed25519 key (EdDSA), e.g. ``openssl genpkey
-algorithm ed25519 -out /etc/sod_nova/ear.key`` (mode 0600, owned by the
services' user).

sod-nova-api signs ``GET /hosts/{name}/attestation`` with it and serves its
public key at ``GET /.well-known/jwks.json`` (key id: the key's RFC 7638
thumbprint); the trust monitor adds a signed EAR to each trust change it
publishes. A file that is missing or holds no such key stops either service
at start. Unset, no attestation result is issued: the API answers 503
``sod.attestation.unavailable``, its JWKS is empty and trust change
notifications carry no ``ear``.

Possible values:

* A path to the key file (the same key for the API and every monitor, so
  that one JWKS verifies all their results).
"""),
]


def register_opts(conf):
    conf.register_group(attestation_group)
    conf.register_opts(attestation_opts, group=attestation_group)


def list_opts():
    return {attestation_group: attestation_opts}
