"""Credentials at rest: envelope encryption with AES-GCM.

A fresh random data key encrypts each secret (AES-256-GCM, the organisation, provider and
credential id bound as associated data); a key-encryption key wraps the data key. The embedded
default wraps with a local key file (created 0600 on first use); Cloud KMS plugs in behind the same
``KeyWrapper`` interface. Secrets are only ever held in memory and never logged or recorded.
"""

from __future__ import annotations

import abc
import hashlib
import logging
import os
import re
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from focusline.errors import ConfigError, InputDataError, TerminalError
from orchestrator.store import ControlStore, StoredCredential

logger = logging.getLogger(__name__)

_NONCE_BYTES = 12
_CREDENTIAL_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,62}$")
PROVIDERS = ("openai", "anthropic", "gemini", "deepseek")


class KeyWrapper(abc.ABC):
    """Wraps and unwraps data keys with a key-encryption key the store never sees."""

    @property
    @abc.abstractmethod
    def key_ref(self) -> str: ...

    @abc.abstractmethod
    def wrap(self, data_key: bytes, aad: bytes) -> bytes: ...

    @abc.abstractmethod
    def unwrap(self, wrapped: bytes, aad: bytes, key_ref: str) -> bytes: ...


class LocalKeyWrapper(KeyWrapper):
    """A 256-bit key in a local file (FOCUSLINE_KEY_FILE), created with mode 0600 when missing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(AESGCM.generate_key(bit_length=256))
            logger.info("created a new local key file %s", path)
        key = path.read_bytes()
        if len(key) != 32:
            raise ConfigError(f"must hold a 32-byte key, found {len(key)} bytes", file=str(path))
        self._aead = AESGCM(key)
        self._key_ref = "local:" + hashlib.sha256(key).hexdigest()[:16]

    @property
    def key_ref(self) -> str:
        return self._key_ref

    def wrap(self, data_key: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data_key, aad)

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


def _aad(org_slug: str, provider: str, credential_id: str) -> bytes:
    return f"focusline:{org_slug}:{provider}:{credential_id}".encode()


class CredentialService:
    def __init__(self, store: ControlStore, wrapper: KeyWrapper) -> None:
        self.store = store
        self.wrapper = wrapper

    def set(self, org_slug: str, provider: str, secret: str, credential_id: str | None = None) -> str:
        if provider not in PROVIDERS:
            raise InputDataError(f"unknown provider {provider!r} (one of {', '.join(PROVIDERS)})")
        credential_id = credential_id or f"{provider}_default"
        if not _CREDENTIAL_ID.fullmatch(credential_id):
            raise InputDataError(f"invalid credential id {credential_id!r}: use a-z, 0-9, _ and -")
        secret = secret.strip()
        if not secret:
            raise InputDataError("the secret read from stdin is empty")
        aad = _aad(org_slug, provider, credential_id)
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(_NONCE_BYTES)
        ciphertext = AESGCM(data_key).encrypt(nonce, secret.encode(), aad)
        self.store.put_credential(
            StoredCredential(
                org_slug=org_slug,
                provider=provider,
                credential_id=credential_id,
                key_ref=self.wrapper.key_ref,
                wrapped_key=self.wrapper.wrap(data_key, aad),
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
        data_key = self.wrapper.unwrap(stored.wrapped_key, aad, stored.key_ref)
        try:
            secret = AESGCM(data_key).decrypt(stored.nonce, stored.ciphertext, aad)
        except InvalidTag:
            raise TerminalError(
                f"credential {stored.credential_id!r} of {org_slug!r} failed authentication (tampered record)"
            ) from None
        return stored.credential_id, secret.decode()
