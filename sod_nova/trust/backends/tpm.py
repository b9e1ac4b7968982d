"""TPM (paper [20]): quotes of a real TPM 2.0, through tpm2-pytss.

The EK from its template, a new AK under it, the measured files extended
into a resettable PCR; each report quotes that PCR over the monitor's nonce.
A TPM that went away (a reboot) is reopened and re-measured. The design:
doc/source/contributor/trust-agent.rst. tpm2-pytss is imported here only.
"""

import base64
import hashlib
import os
import threading

from oslo_log import log as logging

import sod_nova.conf
from sod_nova.trust import attestation
from sod_nova.trust import measurements
from sod_nova.trust.backends import base

LOG = logging.getLogger(__name__)

INSTALL_HINT = ('the tpm backend needs tpm2-pytss: install Debian libtss2-dev '
                'and pkg-config, then pip install "sod-nova[tpm]"')
#: PCRs a process at locality 0 may reset (PC Client profile: debug, application).
RESETTABLE_PCRS = (16, 23)
AK_TEMPLATE = 'ecc256:ecdsa-sha256:null'
#: NV index of the RSA 2048 EK certificate (TCG EK Credential Profile).
EK_CERT_NV_INDEX = 0x01C00002


def _tss():
    # tpm2-tss logs every TPM error response, including the expected ones of
    # probing NV for an EK template; failures reach us as exceptions.
    os.environ.setdefault('TSS2_LOG', 'esys+none')
    try:
        import tpm2_pytss
        from tpm2_pytss import utils
    except ImportError as exc:
        raise RuntimeError('%s (%s)' % (INSTALL_HINT, exc)) from None
    return tpm2_pytss, utils


class TpmBackend(base.TrustBackend):

    ARCHITECTURE = 'TPM'

    def __init__(self, architecture=None, tcti=None, pcr=None,
                 measured_files=None, boot_events=None):
        """``boot_events``: measurements.Event to extend at start instead of
        measuring files, each into its own PCR (a simulated measured boot on
        a fresh software TPM, whose PCRs all start at zero)."""
        super().__init__(architecture)
        conf = sod_nova.conf.CONF.sod_trust
        self._tss, self._utils = _tss()
        self.tcti = tcti or conf.tpm_tcti
        self.pcr = conf.tpm_pcr if pcr is None else pcr
        if self.pcr not in RESETTABLE_PCRS:
            raise ValueError('tpm_pcr must be a resettable PCR (%s), not %s'
                             % (', '.join(map(str, RESETTABLE_PCRS)), self.pcr))
        self.measured_files = list(conf.tpm_measured_files if measured_files is None
                                   else measured_files)
        self.boot_events = list(boot_events or [])
        self._tss_lock = threading.RLock()
        self._ectx = None
        self._ek = self._ak = None
        self._ak_blobs = None
        self._activation = None
        self._log = []
        with self._tss_lock:
            self._connect()
            self._boot()

    # -- TPM session ---------------------------------------------------------

    def _connect(self):
        """Open the TCTI, create the EK and load the AK (created once)."""
        tss = self._tss
        const, types = tss.constants, tss.types
        try:
            tcti = tss.TCTILdr.parse(self.tcti)
            ectx = tss.ESAPI(tcti)
        except Exception as exc:
            raise RuntimeError('cannot open the TPM at %s: %s'
                               % (self.tcti, exc)) from None
        self._ectx = ectx
        nv_read = self._utils.NVReadEK(ectx)
        try:
            self.ek_certificate = bytes(nv_read(EK_CERT_NV_INDEX))
        except Exception:               # no certificate provisioned
            self.ek_certificate = None
        _, template = self._utils.create_ek_template('EK-RSA2048', nv_read)
        self._ek, ek_public, *_ = ectx.create_primary(
            None, template, const.ESYS_TR.ENDORSEMENT)
        self.ek_public = bytes(ek_public.publicArea.marshal())
        if self._ak_blobs is None:
            attrs = (const.TPMA_OBJECT.RESTRICTED | const.TPMA_OBJECT.SIGN_ENCRYPT
                     | const.TPMA_OBJECT.FIXEDTPM | const.TPMA_OBJECT.FIXEDPARENT
                     | const.TPMA_OBJECT.SENSITIVEDATAORIGIN
                     | const.TPMA_OBJECT.USERWITHAUTH)
            template = types.TPM2B_PUBLIC.parse(AK_TEMPLATE, objectAttributes=attrs)
            with self._ek_session() as session:
                private, public, *_ = ectx.create(self._ek, None, template,
                                                  session1=session)
            self._ak_blobs = (private, public)
            self.ak_public = bytes(public.publicArea.marshal())
        with self._ek_session() as session:
            self._ak = ectx.load(self._ek, *self._ak_blobs, session1=session)

    def _ek_session(self):
        """A policy session satisfying the EK's PolicySecret(endorsement)."""
        tss, ectx = self._tss, self._ectx
        const, types = tss.constants, tss.types

        class Session:
            def __enter__(inner):
                inner.handle = ectx.start_auth_session(
                    const.ESYS_TR.NONE, const.ESYS_TR.NONE, const.TPM2_SE.POLICY,
                    types.TPMT_SYM_DEF(algorithm=const.TPM2_ALG.NULL),
                    const.TPM2_ALG.SHA256)
                ectx.policy_secret(const.ESYS_TR.ENDORSEMENT, inner.handle)
                return inner.handle

            def __exit__(inner, *exc):
                ectx.flush_context(inner.handle)

        return Session()

    def _pcr_handle(self, index=None):
        return getattr(self._tss.constants.ESYS_TR, 'PCR%d' % (
            self.pcr if index is None else index))

    def _extend(self, index, digest_hex):
        types, const = self._tss.types, self._tss.constants
        self._ectx.pcr_extend(self._pcr_handle(index), types.TPML_DIGEST_VALUES([
            types.TPMT_HA(hashAlg=const.TPM2_ALG.SHA256,
                          digest=types.TPMU_HA(sha256=bytes.fromhex(digest_hex)))]))

    def _quoted(self):
        """The PCRs quoted: the measurement PCR (unless only given boot
        events use others) and every PCR the log extended."""
        always = set() if self.boot_events and not self.measured_files else {self.pcr}
        return sorted(always | {e.pcr for e in self._log})

    def _read_pcrs(self, indices):
        selection = 'sha256:%s' % ','.join(map(str, indices))
        _, _, values = self._ectx.pcr_read(selection)
        return {i: bytes(v) for i, v in zip(indices, values, strict=True)}

    def _boot(self):
        """Reset the PCR and measure the files: the boot-time event log."""
        self._ectx.pcr_reset(self._pcr_handle())
        self._log = []
        for event in self.boot_events:
            self._measure(event)
        for path in self.measured_files:
            with open(path, 'rb') as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            self._measure(measurements.Event(self.pcr, digest,
                                             os.path.basename(path)))

    def _measure(self, event):
        self._extend(event.pcr, event.digest)
        self._log.append(event)

    def _reconnect(self):
        """The TPM went away (restart, reboot): open it again and, when its
        PCR was reset, measure anew. A PCR that holds values the log does
        not explain is left as it is, for the monitor to see."""
        self._release()
        self._connect()
        used = sorted({self.pcr} | {e.pcr for e in self.boot_events})
        if set(self._read_pcrs(used).values()) == {measurements.ZERO_PCR}:
            LOG.info('TPM at %(tcti)s was reset; measuring the boot files anew',
                     {'tcti': self.tcti})
            self._boot()

    # -- TrustBackend ----------------------------------------------------------

    @property
    def architecture_type(self):
        return self.ARCHITECTURE

    def identity(self):
        """What the operator enrolls besides the host key: the EK (base64
        TPMT_PUBLIC)."""
        return {'tpm_ek': base64.b64encode(self.ek_public).decode('ascii')}

    def measurements(self):
        with self._tss_lock:
            indices = self._quoted()
            return list(self._log), {i: v.hex() for i, v in
                                     self._read_pcrs(indices).items()}

    def attest(self, nonce):
        """``(event log, pcrs, tpm)``: the PCR quoted over ``nonce`` (hex)."""
        with self._tss_lock:
            try:
                return self._quote(nonce)
            except Exception as exc:
                LOG.warning('TPM at %(tcti)s failed (%(exc)s); reconnecting',
                            {'tcti': self.tcti, 'exc': exc})
                self._reconnect()
                return self._quote(nonce)

    def _quote(self, nonce):
        indices = self._quoted()
        values = self._read_pcrs(indices)
        quoted, signature = self._ectx.quote(
            self._ak, 'sha256:%s' % ','.join(map(str, indices)),
            bytes.fromhex(nonce))
        tpm = {'ak': base64.b64encode(self.ak_public).decode('ascii'),
               'quote': base64.b64encode(bytes(quoted)).decode('ascii'),
               'signature': base64.b64encode(bytes(signature.marshal())).decode('ascii'),
               'activation': self._activation}
        return list(self._log), {i: v.hex() for i, v in values.items()}, tpm

    def activate(self, blob, encrypted_seed):
        """TPM2_ActivateCredential of the monitor's credential for the AK;
        keeps the proof the next reports carry. Raises when the credential
        was not made for this TPM's EK and AK."""
        types = self._tss.types
        with self._tss_lock:
            with self._ek_session() as session:
                secret = self._ectx.activate_credential(
                    self._ak, self._ek, types.TPM2B_ID_OBJECT(credential=blob),
                    types.TPM2B_ENCRYPTED_SECRET(secret=encrypted_seed),
                    session2=session)
            name = bytes(self._ectx.tr_get_name(self._ak))
            self._activation = attestation.activation_proof(bytes(secret), name)

    def record_event(self, name, digest):
        """Extend a runtime measurement (sha256 hex) and log it."""
        with self._tss_lock:
            self._measure(measurements.Event(self.pcr, digest, name))
        self._changed()

    def runtime_evidence(self):
        return {}

    def close(self):
        """Flush the EK and AK from the TPM and close the TCTI.

        A TPM reached without a resource manager (swtpm, ``/dev/tpm0``) keeps
        transient objects after the process that loaded them closed its
        connection; unflushed, a few agent restarts fill its object slots.
        """
        with self._tss_lock:
            self._release()

    def _release(self):
        """Flush our EK and AK (a TPM that was reset has none left) and
        close the connection; never raises."""
        if self._ectx is None:
            return
        for handle in (self._ak, self._ek):
            if handle is not None:
                try:
                    self._ectx.flush_context(handle)
                except Exception as exc:   # closing regardless
                    LOG.debug('TPM handle not flushed: %s', exc)
        self._ak = self._ek = None
        try:
            self._ectx.close()
        except Exception as exc:
            LOG.debug('TPM connection not closed cleanly: %s', exc)
        self._ectx = None
