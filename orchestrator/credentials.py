"""Credentials at rest: envelope encryption with AES-GCM.

A fresh random data key encrypts each secret (AES-256-GCM, the organisation, provider and
credential id bound as associated data); a key-encryption key wraps the data key. Which key wraps
new data keys is configuration: Cloud KMS when ``FOCUSLINE_KMS_KEY_NAME`` is set
(``orchestrator/kms.py``), otherwise a local key file (created 0600 on first use). Each stored
credential records the key that wrapped it (``key_ref``: ``local:<key id>`` or a KMS
CryptoKeyVersion name ``projects/...``) and is unwrapped by that key only, whatever is configured
for new credentials; ``rewrap`` moves data keys to the current key without touching the secrets'
ciphertext. Secrets and data keys are only ever held in memory and never logged or recorded.
"""

from __future__ import annotations

import abc
import hashlib
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from focusline.errors import (
    ConfigError,
    ExtractError,
    InputDataError,
    TerminalError,
    TransientError,
)
from focusline.settings import Settings
from orchestrator.store import ControlStore, StoredCredential

logger = logging.getLogger(__name__)

_NONCE_BYTES = 12
_CREDENTIAL_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,62}$")
PROVIDERS = ("openai", "anthropic", "gemini", "deepseek")
LOCAL_PREFIX = "local:"
KMS_PREFIX = "projects/"


class KeyWrapper(abc.ABC):
    """Wraps and unwraps data keys with a key-encryption key the store never sees."""

    prefix: ClassVar[str]  # every key_ref this wrapper produces starts with it

    @property
    @abc.abstractmethod
    def description(self) -> str:
        """Which key, for messages (never key material)."""

    def owns(self, key_ref: str) -> bool:
        return key_ref.startswith(self.prefix)

    def known_key_ref(self) -> str | None:
        """The key_ref ``wrap`` will produce, when known without calling out (local key: yes; KMS: no)."""
        return None

    @abc.abstractmethod
    def wrap(self, data_key: bytes, aad: bytes) -> tuple[str, bytes]:
        """Return ``(key_ref, wrapped data key)``."""

    @abc.abstractmethod
    def unwrap(self, wrapped: bytes, aad: bytes, key_ref: str) -> bytes: ...


class LocalKeyWrapper(KeyWrapper):
    """A 256-bit key in a local file (FOCUSLINE_KEY_FILE), created with mode 0600 when missing.

    ``create=False`` (the file is only needed to unwrap older credentials because Cloud KMS wraps
    new ones) never creates a key: a fresh key could not open anything.
    """

    prefix = LOCAL_PREFIX

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        if not path.exists():
            if not create:
                raise TerminalError(
                    f"the credential was wrapped by a local key file, but FOCUSLINE_KEY_FILE ({path}) does not "
                    "exist; restore that file, or set the credential again"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(AESGCM.generate_key(bit_length=256))
            logger.info("created a new local key file %s", path)
        key = path.read_bytes()
        if len(key) != 32:
            raise ConfigError(f"must hold a 32-byte key, found {len(key)} bytes", file=str(path))
        self._aead = AESGCM(key)
        self._key_ref = LOCAL_PREFIX + hashlib.sha256(key).hexdigest()[:16]

    @property
    def key_ref(self) -> str:
        return self._key_ref

    @property
    def description(self) -> str:
        return f"local key file {self.path} ({self._key_ref})"

    def known_key_ref(self) -> str | None:
        return self._key_ref

    def wrap(self, data_key: bytes, aad: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(_NONCE_BYTES)
        return self._key_ref, nonce + self._aead.encrypt(nonce, data_key, aad)

    def unwrap(self, wrapped: bytes, aad: bytes, key_ref: str) -> bytes:
        if key_ref != self._key_ref:
            raise TerminalError(
                f"credential was encrypted under key {key_ref}, but the configured key is {self._key_ref} "
                f"({self.path}); restore that key file or set the credential again"
            )
        try:
            return self._aead.decrypt(wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], aad)
        except InvalidTag:
            raise TerminalError("credential data key failed authentication: wrong key or tampered record") from None


class KeyRing:
    """The wrapper for new data keys, and the unwrapper for each stored ``key_ref`` by its prefix.

    Wrappers are built on first use, so a local-only setup never loads the KMS client and a KMS
    setup never creates a local key file.
    """

    def __init__(self, factories: Mapping[str, Callable[[], KeyWrapper]], current: str) -> None:
        if current not in factories:
            raise ValueError(f"no wrapper for the current prefix {current!r}")
        self._factories = dict(factories)
        self._current = current
        self._built: dict[str, KeyWrapper] = {}
        self._lock = threading.Lock()  # parallel steps of one run share the ring

    @classmethod
    def single(cls, wrapper: KeyWrapper) -> KeyRing:
        return cls({wrapper.prefix: lambda: wrapper}, wrapper.prefix)

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        """KMS wraps new data keys when FOCUSLINE_KMS_KEY_NAME is set, else the local key file; both
        unwrap what they wrapped earlier (KMS from the key named in the key_ref)."""
        from orchestrator.kms import KmsKeyWrapper  # google-cloud-kms loads only when KMS is in play

        def kms() -> KeyWrapper:
            return KmsKeyWrapper(
                settings.kms_key_name, endpoint=settings.kms_endpoint, timeout_seconds=settings.kms_timeout_seconds
            )

        use_kms = settings.kms_key_name is not None
        ring = cls(
            {
                LOCAL_PREFIX: lambda: LocalKeyWrapper(settings.key_file, create=not use_kms),
                KMS_PREFIX: kms,
            },
            KMS_PREFIX if use_kms else LOCAL_PREFIX,
        )
        if use_kms:
            ring.current()  # a malformed key name or endpoint is a ConfigError now, not at first use
        return ring

    def _get(self, prefix: str) -> KeyWrapper:
        with self._lock:
            if prefix not in self._built:
                self._built[prefix] = self._factories[prefix]()
            return self._built[prefix]

    def current(self) -> KeyWrapper:
        return self._get(self._current)

    def for_ref(self, key_ref: str) -> KeyWrapper:
        for prefix in self._factories:
            if key_ref.startswith(prefix):
                return self._get(prefix)
        known = " or ".join(f"{p}..." for p in self._factories)
        raise TerminalError(
            f"credential was wrapped by key {key_ref!r}, which is not a key this setup can use ({known})"
        )


def _aad(org_slug: str, provider: str, credential_id: str) -> bytes:
    return f"focusline:{org_slug}:{provider}:{credential_id}".encode()


def _about(stored: StoredCredential, exc: ExtractError) -> ExtractError:
    """The same error class, naming the credential (identifiers only)."""
    return type(exc)(f"credential {stored.credential_id!r} of {stored.org_slug!r}: {exc}", **exc.context)


@dataclass
class RewrapReport:
    """Counts of one ``rewrap``; ``failures`` holds (org, credential id, message), never secrets."""

    target: str
    total: int = 0
    rewrapped: int = 0
    current: int = 0
    conflicts: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.total} credential(s) checked against {self.target}: {self.rewrapped} re-wrapped, "
            f"{self.current} already current, {self.conflicts} changed meanwhile (left alone), "
            f"{len(self.failures)} failed"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "total": self.total,
            "rewrapped": self.rewrapped,
            "current": self.current,
            "conflicts": self.conflicts,
            "failed": [{"org_slug": o, "credential_id": c, "error": m} for o, c, m in self.failures],
        }


class CredentialService:
    def __init__(self, store: ControlStore, keys: KeyRing | KeyWrapper) -> None:
        self.store = store
        self.keys = keys if isinstance(keys, KeyRing) else KeyRing.single(keys)

    def set(self, org_slug: str, provider: str, secret: str, credential_id: str | None = None) -> str:
        if provider not in PROVIDERS:
            raise InputDataError(f"unknown provider {provider!r} (one of {', '.join(PROVIDERS)})")
        credential_id = credential_id or f"{provider}_default"
        if not _CREDENTIAL_ID.fullmatch(credential_id):
            raise InputDataError(f"invalid credential id {credential_id!r}: use a-z, 0-9, _ and -")
        secret = secret.strip()
        if not secret:
            raise InputDataError("the secret read from stdin is empty")
        self.store.get_org(org_slug)  # unknown organisation: say so before calling KMS
        aad = _aad(org_slug, provider, credential_id)
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(_NONCE_BYTES)
        ciphertext = AESGCM(data_key).encrypt(nonce, secret.encode(), aad)
        key_ref, wrapped_key = self.keys.current().wrap(data_key, aad)
        self.store.put_credential(
            StoredCredential(
                org_slug=org_slug,
                provider=provider,
                credential_id=credential_id,
                key_ref=key_ref,
                wrapped_key=wrapped_key,
                nonce=nonce,
                ciphertext=ciphertext,
                updated_at="",
            )
        )
        return credential_id

    def get(self, org_slug: str, provider: str, credential_id: str | None = None) -> tuple[str, str]:
        """Return (credential_id, secret)."""
        stored = self.store.get_credential(org_slug, provider, credential_id)
        aad = _aad(stored.org_slug, stored.provider, stored.credential_id)
        data_key = self._unwrap(stored, aad)
        try:
            secret = AESGCM(data_key).decrypt(stored.nonce, stored.ciphertext, aad)
        except InvalidTag:
            raise TerminalError(
                f"credential {stored.credential_id!r} of {org_slug!r} failed authentication (tampered record)"
            ) from None
        return stored.credential_id, secret.decode()

    def _unwrap(self, stored: StoredCredential, aad: bytes) -> bytes:
        try:
            return self.keys.for_ref(stored.key_ref).unwrap(stored.wrapped_key, aad, stored.key_ref)
        except (TerminalError, TransientError) as exc:
            raise _about(stored, exc) from None

    def rewrap(self, org_slug: str | None = None) -> RewrapReport:
        """Re-wrap every data key (of one organisation, or all) under the current key.

        Only ``key_ref`` and ``wrapped_key`` change; nonce and ciphertext stay byte for byte. Each
        data key is checked against its secret's ciphertext before it is re-wrapped, and the write
        is a compare-and-set, so a credential set again meanwhile is left alone. A failure of one
        credential is reported and the others go on; a configuration error stops at once.
        """
        if org_slug is not None:
            self.store.get_org(org_slug)
        target = self.keys.current()
        report = RewrapReport(target=target.description)
        for stored in self.store.list_stored_credentials(org_slug):
            report.total += 1
            if stored.key_ref == target.known_key_ref():
                report.current += 1
                continue
            aad = _aad(stored.org_slug, stored.provider, stored.credential_id)
            try:
                data_key = self._unwrap(stored, aad)
                try:
                    AESGCM(data_key).decrypt(stored.nonce, stored.ciphertext, aad)
                except InvalidTag:
                    raise TerminalError("its data key does not open its ciphertext (tampered record)") from None
                key_ref, wrapped_key = target.wrap(data_key, aad)
            except (TerminalError, TransientError) as exc:
                logger.warning("not re-wrapped: %s/%s: %s", stored.org_slug, stored.credential_id, exc)
                report.failures.append((stored.org_slug, stored.credential_id, str(exc)))
                continue
            if key_ref == stored.key_ref:
                report.current += 1
                continue
            if not self.store.rewrap_credential(stored, key_ref=key_ref, wrapped_key=wrapped_key):
                report.conflicts += 1
                continue
            logger.info("re-wrapped %s/%s: %s -> %s", stored.org_slug, stored.credential_id, stored.key_ref, key_ref)
            report.rewrapped += 1
        return report
