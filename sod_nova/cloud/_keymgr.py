"""An in-memory key manager for the embedded cloud's vTPM guests.

Nova keeps a vTPM guest's secret in the key manager (Barbican in production);
its ConfKeyManager cannot store a passphrase, so this one keeps them in memory
for the cloud's life, as Nova's ``test_vtpm.FakeKeyManager`` does, without its
per-user ownership check. See doc/source/contributor/simulator.rst.
"""

import threading

from castellan.common.objects import passphrase
from castellan.key_manager import key_manager
from nova import exception
from oslo_utils import uuidutils

#: ``[key_manager] backend`` for this class.
BACKEND = 'sod_nova.cloud._keymgr.MemoryKeyManager'


class MemoryKeyManager(key_manager.KeyManager):
    """Passphrases only (what Nova's vTPM support stores)."""

    def __init__(self, configuration):
        # Nova makes one per cloud (nova.crypto._KEYMGR, reset between clouds).
        super().__init__(configuration)
        self._secrets = {}
        self._lock = threading.Lock()

    def create_key(self, context, algorithm, length, **kwargs):
        raise NotImplementedError('the embedded key manager keeps passphrases only')

    def create_key_pair(self, context, **kwargs):
        raise NotImplementedError('the embedded key manager keeps passphrases only')

    def store(self, context, managed_object, **kwargs):
        if context is None:
            raise exception.Forbidden()
        if not isinstance(managed_object, passphrase.Passphrase):
            raise exception.KeyManagerError(
                reason='the embedded key manager keeps passphrases only')
        secret_id = uuidutils.generate_uuid()
        managed_object._id = secret_id
        with self._lock:
            self._secrets[secret_id] = managed_object
        return secret_id

    def get(self, context, managed_object_id, **kwargs):
        if context is None:
            raise exception.Forbidden()
        with self._lock:
            return self._secrets[managed_object_id]

    def delete(self, context, managed_object_id, **kwargs):
        if context is None:
            raise exception.Forbidden()
        with self._lock:
            if self._secrets.pop(managed_object_id, None) is None:
                raise exception.KeyManagerError(
                    reason='no secret %s' % managed_object_id)

    def add_consumer(self, context, managed_object_id, consumer_data):
        raise NotImplementedError('no consumers in the embedded key manager')

    def remove_consumer(self, context, managed_object_id, consumer_data):
        raise NotImplementedError('no consumers in the embedded key manager')
