"""Every enrolled public key in its one spelling: base64 of its 32 raw bytes.

So that one key cannot be enrolled for two hosts under two spellings; values
that are no Ed25519 key, and keys two hosts hold, are logged.

Revision ID: 0009_canonical_public_keys
Revises: 0008_audit_key
"""

import base64
import binascii

from alembic import op
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from oslo_log import log as logging
import sqlalchemy as sa

revision = '0009_canonical_public_keys'
down_revision = '0008_audit_key'
branch_labels = None
depends_on = None

LOG = logging.getLogger(__name__)


def canonical(text):
    """``(base64 of the raw key, None)`` for an Ed25519 public key written
    as base64 or PEM (blanks around it allowed), else ``(None, why)``."""
    text = text.strip()
    if text.startswith('-----BEGIN'):
        try:
            key = serialization.load_pem_public_key(text.encode())
        except (ValueError, TypeError, UnicodeEncodeError):
            return None, 'not a PEM public key'
        if not isinstance(key, ed25519.Ed25519PublicKey):
            return None, 'the PEM public key is not Ed25519'
        raw = key.public_bytes(serialization.Encoding.Raw,
                               serialization.PublicFormat.Raw)
    else:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return None, 'neither PEM nor base64'
        if len(raw) != 32:
            return None, 'an Ed25519 public key has 32 bytes, not %d' % len(raw)
    return base64.b64encode(raw).decode('ascii'), None


def upgrade():
    table = sa.table('sod_trust_enrollments', sa.column('id', sa.Integer),
                     sa.column('host', sa.String),
                     sa.column('public_key', sa.String))
    bind = op.get_bind()
    holders = {}
    for row_id, host, text in bind.execute(
            sa.select(table.c.id, table.c.host, table.c.public_key).where(
                table.c.public_key.is_not(None)).order_by(table.c.id)).all():
        key, why = canonical(text)
        if key is None:
            LOG.warning('sod_trust_enrollments: the public key of host %(host)s '
                        'is left as stored: %(why)s (re-enroll the host)',
                        {'host': host, 'why': why})
            continue
        if key != text:
            bind.execute(table.update().where(table.c.id == row_id).values(
                public_key=key))
        holders.setdefault(key, []).append(host)
    for hosts in holders.values():
        if len(hosts) > 1:
            LOG.warning('sod_trust_enrollments: hosts %(hosts)s hold one public '
                        'key; one key belongs to one host: re-enroll all but '
                        'one of them', {'hosts': ', '.join(hosts)})
