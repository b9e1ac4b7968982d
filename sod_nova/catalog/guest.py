"""Guest launch features: what a VM is launched as, read as Nova 34 reads it.

Present-day rows protect only a guest launched for them; this module says
which features (SEV-SNP, TDX, vTPM, SGX, CCA) a VM has from its flavor extra
specs and image properties, so that sod-nova never calls a guest
confidential where Nova would not launch it so. Imports nothing from OpenStack.
"""

import dataclasses

AMD_SEV_SNP = 'amd-sev-snp'
INTEL_TDX = 'intel-tdx'
VTPM = 'vtpm'
SGX_ENCLAVE = 'sgx-enclave'
ARM_CCA_REALM = 'arm-cca-realm'


@dataclasses.dataclass(frozen=True)
class Feature:
    """One guest launch feature and how a flavor asks for it.

    ``how`` is the extra specs that launch such a guest, for messages;
    ``expressible`` is False where Nova 34 cannot launch such a guest at all
    (no flavor or image can ask for it), so the row protects no VM today.
    """

    name: str
    how: str
    expressible: bool = True


FEATURES = {f.name: f for f in (
    Feature(AMD_SEV_SNP, 'hw:mem_encryption=true, '
            'hw:mem_encryption_model=amd-sev-snp'),
    Feature(INTEL_TDX, 'hw:mem_encryption=true, '
            'hw:mem_encryption_model=intel-tdx'),
    Feature(VTPM, 'hw:tpm_version=2.0 (a vTPM)'),
    Feature(SGX_ENCLAVE, 'an application built for SGX in a guest given '
            'enclave memory (EPC), which Nova 34 cannot launch',
            expressible=False),
    Feature(ARM_CCA_REALM, 'a Realm VM, which Nova 34 cannot launch',
            expressible=False),
)}

#: Features of a guest that Nova launches only on hardware of its kind (its
#: scheduler asks for MEM_ENCRYPTION_CONTEXT of that model): such a guest
#: can move only to a host whose row is made for it.
HOST_BOUND = frozenset((AMD_SEV_SNP, INTEL_TDX))

#: The image properties the features are read from (Nova's names).
IMAGE_KEYS = ('hw_mem_encryption', 'hw_mem_encryption_model',
              'hw_tpm_version', 'hw_tpm_model')

#: Nova's memory-encryption models that are a feature of their own here.
_MODELS = {AMD_SEV_SNP: AMD_SEV_SNP, INTEL_TDX: INTEL_TDX}
#: The TPM versions Nova launches a vTPM of (``fields.TPMVersion``).
TPM_VERSIONS = ('1.2', '2.0')
#: Nova's default model when only ``hw:mem_encryption`` is set.
_DEFAULT_MODEL = 'amd-sev'
#: What oslo's ``bool_from_string`` reads as true and false (Nova parses
#: the flags so).
TRUE_WORDS = ('1', 't', 'true', 'on', 'y', 'yes')
FALSE_WORDS = ('0', 'f', 'false', 'off', 'n', 'no')


def _flag(value):
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in TRUE_WORDS if value is not None else False


def _pick(flavor, image, flavor_key, image_key):
    value = (flavor or {}).get(flavor_key)
    if value in (None, ''):
        value = (image or {}).get(image_key)
    return None if value in (None, '') else str(value)


def features(flavor_extra_specs=None, image_properties=None):
    """The guest launch features of a VM, as a frozenset of names.

    ``image_properties`` are the image's own keys (``hw_mem_encryption``…).
    A memory-encryption model counts only where memory encryption is asked
    for (Nova ignores the model otherwise); plain ``amd-sev`` is not SNP.
    """
    flavor, image = flavor_extra_specs or {}, image_properties or {}
    found = set()
    if _flag(flavor.get('hw:mem_encryption')) or _flag(
            image.get('hw_mem_encryption')):
        # Nova compares the model exactly (MemEncryptionConfig.create);
        # any other spelling launches no such guest.
        model = _pick(flavor, image, 'hw:mem_encryption_model',
                      'hw_mem_encryption_model') or _DEFAULT_MODEL
        if model in _MODELS:
            found.add(_MODELS[model])
    if _pick(flavor, image, 'hw:tpm_version', 'hw_tpm_version') in TPM_VERSIONS:
        found.add(VTPM)
    return frozenset(found)


def memory_encrypted(flavor_extra_specs=None, image_properties=None):
    """Whether Nova launches the VM memory-encrypted (any model): such a
    guest cannot be live-migrated or suspended (Nova answers 409)."""
    return _flag((flavor_extra_specs or {}).get('hw:mem_encryption')) or _flag(
        (image_properties or {}).get('hw_mem_encryption'))


def vtpm_live_migratable(flavor_extra_specs=None, image_properties=None):
    """Whether Nova live-migrates the VM's vTPM: only with the flavor's
    ``hw:tpm_secret_security=host`` (Nova 34's
    ``reject_legacy_vtpm_live_migration``); a VM without a vTPM: True."""
    if VTPM not in features(flavor_extra_specs, image_properties):
        return True
    return (flavor_extra_specs or {}).get('hw:tpm_secret_security') == 'host'


def live_migratable(flavor_extra_specs=None, image_properties=None):
    """Whether Nova accepts a live migration of the VM at all."""
    return (not memory_encrypted(flavor_extra_specs, image_properties)
            and vtpm_live_migratable(flavor_extra_specs, image_properties))


def describe(found):
    """``launched with hw:...`` words for a set of features, for messages."""
    if not found:
        return 'an ordinary guest (no confidential-VM model, no vTPM)'
    return 'a guest launched with %s' % '; '.join(
        FEATURES[name].how for name in sorted(found))
