"""Cloud KMS as the key-encryption key of credential data keys (``KmsKeyWrapper``).

``wrap`` is KMS ``encrypt`` of the 32-byte data key on the configured CryptoKey
(``FOCUSLINE_KMS_KEY_NAME``), with the credential's associated data as KMS
``additional_authenticated_data``; the stored ``key_ref`` is the CryptoKeyVersion KMS answers with
(``EncryptResponse.name``). ``unwrap`` is KMS ``decrypt`` on the CryptoKey of that version (KMS
finds the version from the ciphertext), so a credential always decrypts with the key that wrapped
it, also after ``FOCUSLINE_KMS_KEY_NAME`` moved on to another key, until it is re-wrapped.
Requests and answers carry CRC32C checksums, as Google recommends, and both are verified.

The client is the real ``google-cloud-kms`` client over REST. ``FOCUSLINE_KMS_ENDPOINT`` overrides
the endpoint (a regional/private endpoint, or a local fake in tests). Every call is bounded by
``FOCUSLINE_KMS_TIMEOUT`` (retries of 429/5xx/connection errors included), so an unreachable
endpoint fails in seconds with a ``TransientError``.

Errors never carry key material: they name the key, the operation and KMS's own message.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

import google.auth
import google_crc32c
import requests
from google.api_core import exceptions as gexc
from google.api_core import retry as gretry
from google.auth import exceptions as auth_exc
from google.auth.credentials import AnonymousCredentials, Credentials

from focusline.errors import ConfigError, TerminalError, TransientError
from orchestrator.credentials import KMS_PREFIX, KeyWrapper

if TYPE_CHECKING:
    from google.cloud.kms import KeyManagementServiceClient

logger = logging.getLogger(__name__)

KEY_NAME_ENV = "FOCUSLINE_KMS_KEY_NAME"
ENDPOINT_ENV = "FOCUSLINE_KMS_ENDPOINT"
TIMEOUT_ENV = "FOCUSLINE_KMS_TIMEOUT"
_KEY_NAME = re.compile(r"^projects/[^/\s]+/locations/[^/\s]+/keyRings/[^/\s]+/cryptoKeys/[^/\s]+$")
_VERSION_NAME = re.compile(
    r"^(?P<key>projects/[^/\s]+/locations/[^/\s]+/keyRings/[^/\s]+/cryptoKeys/[^/\s]+)/cryptoKeyVersions/\d+$"
)
# The KMS client logs whole request payloads at DEBUG (EncryptRequest.plaintext is the data key);
# its loggers are pinned to INFO so neither --verbose nor GOOGLE_SDK_PYTHON_LOGGING_SCOPE can leak one.
_PAYLOAD_LOGGERS = ("google.cloud.kms_v1", "google.cloud.kms")
_RETRYABLE = (
    gexc.TooManyRequests,
    gexc.InternalServerError,
    gexc.BadGateway,
    gexc.ServiceUnavailable,
    gexc.GatewayTimeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    auth_exc.TransportError,
)
_MESSAGE_LIMIT = 300
_REST_PREFIX = re.compile(r"^[A-Z]+ \S+: ")
T = TypeVar("T")


def crc32c(data: bytes) -> int:
    """CRC32C (Castagnoli), the checksum KMS uses for integrity (google-crc32c, Google's own library)."""
    return int(google_crc32c.value(data))


def validate_key_name(key_name: str) -> str:
    if not _KEY_NAME.fullmatch(key_name):
        raise ConfigError(
            f"{key_name!r} is not a Cloud KMS CryptoKey name "
            "(projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY)",
            field=KEY_NAME_ENV,
        )
    return key_name


def crypto_key_of(key_ref: str) -> str:
    """The CryptoKey name of a stored KMS ``key_ref`` (a CryptoKeyVersion name)."""
    match = _VERSION_NAME.fullmatch(key_ref)
    if not match:
        raise TerminalError(f"stored key reference {key_ref!r} is not a Cloud KMS CryptoKeyVersion name")
    return match["key"]


def _is_loopback(endpoint: str) -> bool:
    host = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_endpoint(endpoint: str) -> str:
    """An ``http(s)://host[:port]`` or ``host[:port]`` override; plain http only to loopback."""
    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ConfigError(f"{endpoint!r} is not an endpoint like https://HOST[:PORT]", field=ENDPOINT_ENV)
    if parts.scheme == "http" and not _is_loopback(endpoint):
        raise ConfigError(
            f"{endpoint!r}: plain http is only allowed to a loopback address (data keys travel in the body)",
            field=ENDPOINT_ENV,
        )
    return endpoint.rstrip("/")


def _client_credentials(endpoint: str | None) -> Credentials | None:
    """Application Default Credentials; anonymous only for an explicit loopback endpoint without ADC.

    Production (no override, or a non-loopback override such as a private endpoint) always uses ADC
    (None lets the client look them up). An operator who points FOCUSLINE_KMS_ENDPOINT at a loopback
    address (a local KMS fake or emulator) often has no Google credentials at all: there, and only
    there, a missing ADC means anonymous calls instead of an error. Nothing here probes the GCE
    metadata server beyond what ``google.auth.default`` does (tests set NO_GCE_CHECK=true).
    """
    if endpoint is None or not _is_loopback(endpoint):
        return None
    adc_logger = logging.getLogger("google.auth._default")
    quiet = _DropAll()  # its "metadata server unavailable" warning is expected here, not news
    adc_logger.addFilter(quiet)
    try:
        credentials, _project = google.auth.default(scopes=["https://www.googleapis.com/auth/cloudkms"])
    except auth_exc.DefaultCredentialsError:
        logger.debug("no Application Default Credentials; anonymous calls to the loopback KMS endpoint %s", endpoint)
        return AnonymousCredentials()
    finally:
        adc_logger.removeFilter(quiet)
    return credentials


class _DropAll(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


def _server_message(exc: gexc.GoogleAPICallError) -> str:
    """KMS's own message (never request data), without the "POST <url>: " the REST client prepends."""
    message = _REST_PREFIX.sub("", " ".join(str(exc.message).split()))
    return message if len(message) <= _MESSAGE_LIMIT else message[:_MESSAGE_LIMIT] + "..."


class KmsKeyWrapper(KeyWrapper):
    """Wraps data keys with a Cloud KMS symmetric CryptoKey (see the module docstring).

    ``key_name`` may be None for a wrapper that only unwraps (credentials stored under KMS while
    the local key file is configured for new ones). The client is created on first use.
    """

    prefix = KMS_PREFIX

    def __init__(self, key_name: str | None, *, endpoint: str | None = None, timeout_seconds: float = 10.0) -> None:
        self.key_name = validate_key_name(key_name) if key_name else None
        self.endpoint = validate_endpoint(endpoint) if endpoint else None
        if timeout_seconds <= 0:
            raise ConfigError(f"must be a positive number of seconds, got {timeout_seconds:g}", field=TIMEOUT_ENV)
        self.timeout_seconds = timeout_seconds
        self._client: KeyManagementServiceClient | None = None
        self._lock = threading.Lock()

    @property
    def description(self) -> str:
        return f"Cloud KMS key {self.key_name}" if self.key_name else "Cloud KMS (no FOCUSLINE_KMS_KEY_NAME)"

    # -- the client --------------------------------------------------------------------------------
    def client(self) -> KeyManagementServiceClient:
        with self._lock:
            if self._client is None:
                from google.cloud import kms  # import on first use: the local default never loads it

                for name in _PAYLOAD_LOGGERS:
                    payload_logger = logging.getLogger(name)
                    if payload_logger.level < logging.INFO:
                        payload_logger.setLevel(logging.INFO)
                try:
                    self._client = kms.KeyManagementServiceClient(
                        credentials=_client_credentials(self.endpoint),
                        transport="rest",
                        client_options={"api_endpoint": self.endpoint} if self.endpoint else None,
                    )
                except auth_exc.DefaultCredentialsError:
                    hint = (
                        "no Google credentials for Cloud KMS: set up Application Default Credentials "
                        "(GOOGLE_APPLICATION_CREDENTIALS, `gcloud auth application-default login`, or the "
                        "attached service account)"
                    )
                    if self.key_name is None:  # only here to unwrap credentials stored under KMS earlier
                        raise TerminalError(f"the credential was wrapped by Cloud KMS, but {hint}") from None
                    raise ConfigError(hint, field=KEY_NAME_ENV) from None
            return self._client

    def _retry(self) -> gretry.Retry:
        return gretry.Retry(
            predicate=gretry.if_exception_type(*_RETRYABLE),
            initial=0.2,
            maximum=2.0,
            multiplier=2.0,
            timeout=self.timeout_seconds,
        )

    def _call(self, action: str, key: str, call: Callable[[], T], *, configured: bool) -> T:
        """Run one KMS call; map its failures to focusline errors that carry no key material."""
        try:
            return call()
        except gexc.NotFound:
            if configured:
                raise ConfigError(
                    f"Cloud KMS key {key} was not found (check project, location, key ring and key name"
                    f"{', and ' + ENDPOINT_ENV if self.endpoint else ''})",
                    field=KEY_NAME_ENV,
                ) from None
            raise TerminalError(
                f"Cloud KMS key {key}, which wrapped this credential, was not found; restore access to it "
                "or set the credential again"
            ) from None
        except (gexc.Forbidden, gexc.Unauthorized) as exc:
            raise TerminalError(
                f"KMS denied {action} for key {key}: {_server_message(exc)} (the caller needs "
                "roles/cloudkms.cryptoKeyEncrypterDecrypter on the key)"
            ) from None
        except gexc.BadRequest as exc:
            if action == "decrypt":
                raise TerminalError(
                    f"KMS could not decrypt the credential's data key with key {key}: {_server_message(exc)} "
                    "(the record names another key, its key version is disabled or destroyed, it was altered, "
                    "or it belongs to another organisation/provider/credential id)"
                ) from None
            raise TerminalError(f"KMS refused to {action} with key {key}: {_server_message(exc)}") from None
        except gexc.RetryError as exc:
            cause = type(exc.cause).__name__ if exc.cause is not None else "no answer"
            raise TransientError(
                f"Cloud KMS unreachable or unavailable for {action} with key {key} after "
                f"{self.timeout_seconds:g}s ({cause}); try again later"
            ) from None
        except (*_RETRYABLE, gexc.DeadlineExceeded) as exc:
            raise TransientError(
                f"Cloud KMS unreachable or unavailable for {action} with key {key} ({type(exc).__name__}); "
                "try again later"
            ) from None
        except auth_exc.RefreshError as exc:
            if getattr(exc, "retryable", False):
                raise TransientError(f"could not refresh Google credentials for KMS {action}; try again") from None
            raise TerminalError(
                f"Google credentials for KMS {action} with key {key} were rejected: check Application "
                "Default Credentials"
            ) from None
        except gexc.GoogleAPICallError as exc:
            raise TerminalError(f"KMS {action} with key {key} failed: {_server_message(exc)}") from None

    # -- KeyWrapper --------------------------------------------------------------------------------
    def wrap(self, data_key: bytes, aad: bytes) -> tuple[str, bytes]:
        from google.cloud import kms

        if self.key_name is None:
            raise ConfigError("is not set: Cloud KMS cannot wrap new data keys", field=KEY_NAME_ENV)
        key_name = self.key_name
        request = kms.EncryptRequest(
            name=key_name,
            plaintext=data_key,
            additional_authenticated_data=aad,
            plaintext_crc32c=crc32c(data_key),
            additional_authenticated_data_crc32c=crc32c(aad),
        )
        client = self.client()
        response = self._call(
            "encrypt",
            key_name,
            lambda: client.encrypt(request=request, retry=self._retry(), timeout=self.timeout_seconds),
            configured=True,
        )
        if not (response.verified_plaintext_crc32c and response.verified_additional_authenticated_data_crc32c):
            raise TransientError(f"KMS encrypt with key {key_name} did not verify the request checksums; try again")
        if response.ciphertext_crc32c is None or crc32c(response.ciphertext) != int(response.ciphertext_crc32c):
            raise TransientError(f"KMS encrypt answer for key {key_name} was corrupted in transit; try again")
        match = _VERSION_NAME.fullmatch(response.name)
        if not match or match["key"] != key_name:
            raise TerminalError(f"KMS encrypted with {response.name!r}, not a version of key {key_name}")
        logger.debug("wrapped a data key with %s", response.name)
        return response.name, bytes(response.ciphertext)

    def unwrap(self, wrapped: bytes, aad: bytes, key_ref: str) -> bytes:
        from google.cloud import kms

        key = crypto_key_of(key_ref)
        request = kms.DecryptRequest(
            name=key,
            ciphertext=wrapped,
            additional_authenticated_data=aad,
            ciphertext_crc32c=crc32c(wrapped),
            additional_authenticated_data_crc32c=crc32c(aad),
        )
        client = self.client()
        response = self._call(
            "decrypt",
            key,
            lambda: client.decrypt(request=request, retry=self._retry(), timeout=self.timeout_seconds),
            configured=key == self.key_name,
        )
        if response.plaintext_crc32c is None or crc32c(response.plaintext) != int(response.plaintext_crc32c):
            raise TransientError(f"KMS decrypt answer for key {key} was corrupted in transit; try again")
        return bytes(response.plaintext)
