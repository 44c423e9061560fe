"""A fake Google Cloud KMS (REST, v1) on 127.0.0.1 for tests: symmetric encrypt/decrypt only.

Serves what ``google.cloud.kms.KeyManagementServiceClient(transport="rest")`` sends for
``encrypt`` and ``decrypt``::

    POST /v1/{projects/P/locations/L/keyRings/R/cryptoKeys/K[/cryptoKeyVersions/N]}:encrypt
    POST /v1/{projects/P/locations/L/keyRings/R/cryptoKeys/K}:decrypt

with proto3-JSON bodies (``plaintext``/``ciphertext``/``additionalAuthenticatedData`` base64,
``*Crc32c`` as decimal strings) and responses shaped like the real API (``name``, ``ciphertext``,
``ciphertextCrc32c``, ``verifiedPlaintextCrc32c``, ``verifiedAdditionalAuthenticatedDataCrc32c``;
``plaintext``, ``plaintextCrc32c``, ``usedPrimary``). The cryptography is real: each key version
holds its own AES-256-GCM key, the ciphertext names the version that made it (so decrypt picks the
version, as KMS does) and binds the additional authenticated data.

Behaviour copied from the service: unknown key -> 404 NOT_FOUND; a key in ``denied`` -> 403
PERMISSION_DENIED; ciphertext of another key, altered ciphertext or different AAD -> 400
INVALID_ARGUMENT "Decryption failed ..."; a disabled/destroyed version -> 400 FAILED_PRECONDITION;
a request CRC32C that does not match -> 400 INVALID_ARGUMENT. Errors use Google's JSON shape
``{"error": {"code", "message", "status"}}``. ``fail_next(n, status)`` injects 5xx/429 answers.

Never logs or records plaintexts, ciphertexts or AAD: ``calls`` holds (rpc, resource name, HTTP
status, whether an Authorization header was sent) only.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import google_crc32c
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_KEY = re.compile(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$")
_VERSION = re.compile(
    r"^(?P<key>projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+)/cryptoKeyVersions/\d+$"
)
_MAGIC = b"FKMS1"
_TOKEN_BYTES = 16
_NONCE_BYTES = 12
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class KmsHttpError(Exception):
    def __init__(self, code: int, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status or _STATUS_NAMES.get(code, "UNKNOWN")


@dataclass
class _Version:
    number: int
    aead: AESGCM
    token: bytes  # opaque id embedded in ciphertexts, so decrypt can find the version
    state: str = "ENABLED"


@dataclass
class _CryptoKey:
    name: str
    versions: dict[int, _Version] = field(default_factory=dict)
    primary: int = 0

    def add_version(self) -> str:
        number = max(self.versions, default=0) + 1
        self.versions[number] = _Version(number, AESGCM(AESGCM.generate_key(bit_length=256)), os.urandom(_TOKEN_BYTES))
        self.primary = number
        return f"{self.name}/cryptoKeyVersions/{number}"


def _b64(payload: dict[str, Any], name: str) -> bytes:
    value = payload.get(name, "")
    if not isinstance(value, str):
        raise KmsHttpError(400, f"Invalid value at '{name}': expected base64 bytes")
    try:
        standard = value.replace("-", "+").replace("_", "/")  # proto3 JSON accepts both alphabets
        return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise KmsHttpError(400, f"Invalid value at '{name}': invalid base64") from None


def _check_crc(payload: dict[str, Any], name: str, data: bytes, field_name: str) -> bool:
    """True when the request carried a checksum for ``data`` and it matched; 400 when it did not."""
    if name not in payload:
        return False
    if int(payload[name]) != google_crc32c.value(data):
        raise KmsHttpError(
            400,
            f"The checksum in field {field_name} did not match the data in field {field_name.removesuffix('_crc32c')}.",
        )
    return True


class FakeKms:
    """The fake service's state plus its HTTP server. Use as a context manager."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, _CryptoKey] = {}
        self.denied: set[str] = set()
        self.calls: list[tuple[str, str, int, bool]] = []
        self._faults: list[int] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-kms", daemon=True
        )

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeKms:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- administration (what an operator does in the console) -----------------------------------
    def create_key(self, name: str) -> str:
        """Create a symmetric ENCRYPT_DECRYPT key with version 1 as primary; return the version name."""
        if not _KEY.fullmatch(name):
            raise ValueError(f"not a CryptoKey name: {name}")
        with self._lock:
            key = self._keys.setdefault(name, _CryptoKey(name))
            return key.add_version()

    def rotate(self, name: str) -> str:
        """Add a version and make it primary (what scheduled rotation does); return its name."""
        with self._lock:
            return self._keys[name].add_version()

    def set_version_state(self, version_name: str, state: str) -> None:
        """ENABLED, DISABLED or DESTROYED (destroying also forgets the key material)."""
        match = _VERSION.fullmatch(version_name)
        if not match:
            raise ValueError(f"not a CryptoKeyVersion name: {version_name}")
        with self._lock:
            version = self._keys[match["key"]].versions[int(version_name.rsplit("/", 1)[1])]
            version.state = state
            if state == "DESTROYED":
                version.aead = AESGCM(bytes(32))  # material gone; never used again

    def primary(self, name: str) -> str:
        with self._lock:
            return f"{name}/cryptoKeyVersions/{self._keys[name].primary}"

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next ``count`` requests with ``status`` (e.g. 503, 500, 429)."""
        with self._lock:
            self._faults.extend([status] * count)

    # -- the API ---------------------------------------------------------------------------------
    def handle(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        if not path.startswith("/v1/") or ":" not in path:
            raise KmsHttpError(404, f"The requested URL {path} was not found on this server.")
        name, rpc = path.removeprefix("/v1/").rsplit(":", 1)
        with self._lock:
            if self._faults:
                status = self._faults.pop(0)
                raise KmsHttpError(status, "The service is currently unavailable.")
            if rpc == "encrypt":
                return self._encrypt(name, payload)
            if rpc == "decrypt":
                return self._decrypt(name, payload)
        raise KmsHttpError(404, f"The requested URL {path} was not found on this server.")

    def _lookup(self, key_name: str, permission: str, resource: str) -> _CryptoKey:
        if key_name in self.denied:
            raise KmsHttpError(403, f"Permission '{permission}' denied on resource '{resource}' (or it may not exist).")
        key = self._keys.get(key_name)
        if key is None:
            raise KmsHttpError(404, f"{resource} not found.")
        return key

    def _encrypt(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        match = _VERSION.fullmatch(name)
        key_name = match["key"] if match else name
        if not match and not _KEY.fullmatch(name):
            raise KmsHttpError(400, f"Resource name [{name}] does not represent a valid CryptoKey.")
        key = self._lookup(key_name, "cloudkms.cryptoKeyVersions.useToEncrypt", name)
        number = int(name.rsplit("/", 1)[1]) if match else key.primary
        version = key.versions.get(number)
        if version is None:
            raise KmsHttpError(404, f"{name} not found.")
        version_name = f"{key_name}/cryptoKeyVersions/{number}"
        if version.state != "ENABLED":
            raise KmsHttpError(
                400,
                f"The request cannot be fulfilled. Resource {version_name} is not enabled, "
                f"current state is: {version.state}.",
                "FAILED_PRECONDITION",
            )
        plaintext = _b64(payload, "plaintext")
        aad = _b64(payload, "additionalAuthenticatedData")
        if not plaintext:
            raise KmsHttpError(400, "Plaintext is required.")
        verified_plaintext = _check_crc(payload, "plaintextCrc32c", plaintext, "plaintext_crc32c")
        verified_aad = _check_crc(
            payload, "additionalAuthenticatedDataCrc32c", aad, "additional_authenticated_data_crc32c"
        )
        nonce = os.urandom(_NONCE_BYTES)
        ciphertext = _MAGIC + version.token + nonce + version.aead.encrypt(nonce, plaintext, aad)
        return {
            "name": version_name,
            "ciphertext": base64.b64encode(ciphertext).decode(),
            "ciphertextCrc32c": str(google_crc32c.value(ciphertext)),
            "verifiedPlaintextCrc32c": verified_plaintext,
            "verifiedAdditionalAuthenticatedDataCrc32c": verified_aad,
            "protectionLevel": "SOFTWARE",
        }

    def _decrypt(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        if not _KEY.fullmatch(name):
            raise KmsHttpError(400, f"Resource name [{name}] does not represent a valid CryptoKey.")
        key = self._lookup(name, "cloudkms.cryptoKeyVersions.useToDecrypt", name)
        ciphertext = _b64(payload, "ciphertext")
        aad = _b64(payload, "additionalAuthenticatedData")
        _check_crc(payload, "ciphertextCrc32c", ciphertext, "ciphertext_crc32c")
        _check_crc(payload, "additionalAuthenticatedDataCrc32c", aad, "additional_authenticated_data_crc32c")
        token = ciphertext[len(_MAGIC) : len(_MAGIC) + _TOKEN_BYTES]
        version = next((v for v in key.versions.values() if v.token == token), None)
        if not ciphertext.startswith(_MAGIC) or version is None:
            raise KmsHttpError(400, "Decryption failed: verify that 'name' refers to the correct CryptoKey.")
        if version.state != "ENABLED":
            raise KmsHttpError(
                400,
                f"The request cannot be fulfilled. Resource {name}/cryptoKeyVersions/{version.number} is not "
                f"enabled, current state is: {version.state}.",
                "FAILED_PRECONDITION",
            )
        body = ciphertext[len(_MAGIC) + _TOKEN_BYTES :]
        try:
            plaintext = version.aead.decrypt(body[:_NONCE_BYTES], body[_NONCE_BYTES:], aad)
        except InvalidTag:
            raise KmsHttpError(400, "Decryption failed: the ciphertext is invalid.") from None
        return {
            "plaintext": base64.b64encode(plaintext).decode(),
            "plaintextCrc32c": str(google_crc32c.value(plaintext)),
            "usedPrimary": version.number == key.primary,
            "protectionLevel": "SOFTWARE",
        }


def _handler_for(kms: FakeKms) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            path = self.path.split("?", 1)[0]
            rpc = path.rsplit(":", 1)[-1]
            name = path.removeprefix("/v1/").rsplit(":", 1)[0]
            try:
                try:
                    payload = json.loads(raw or b"{}")
                except ValueError:
                    raise KmsHttpError(400, "Invalid JSON payload received.") from None
                status, body = 200, kms.handle(path, payload)
            except KmsHttpError as exc:
                status = exc.code
                body = {"error": {"code": exc.code, "message": exc.message, "status": exc.status}}
            kms.calls.append((rpc, name, status, "Authorization" in self.headers))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: the request line holds only the resource name, but tests need a quiet stderr."""

    return Handler
