"""Credentials at rest: local key file and Cloud KMS (the real google-cloud-kms client, REST, against
tests/fake_kms.py on 127.0.0.1), key selection by key_ref, error mapping, re-wrap, no secret leaks."""

from __future__ import annotations

import base64
import logging
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import google.auth.compute_engine._metadata as gce_metadata
import pytest
from click.testing import CliRunner
from google.api_core import client_logging

from focusline.errors import ConfigError, FocuslineError, TerminalError, TransientError
from focusline.settings import Settings
from orchestrator.credentials import CredentialService, KeyRing
from orchestrator.kms import KmsKeyWrapper, crc32c
from orchestrator.service import Services, run_pipeline
from orchestrator.store import SqliteControlStore
from run import cli
from tests.fake_kms import FakeKms

KEY_A = "projects/acme/locations/europe-west1/keyRings/focusline/cryptoKeys/credentials"
KEY_B = "projects/acme/locations/europe-west1/keyRings/focusline/cryptoKeys/other"
SECRET = "sk-admin-kms-test-" + "q" * 40
SECRET_2 = "sk-admin-kms-test-" + "z" * 40
ORG = "org_kms"
ORG_2 = "org_other"


@pytest.fixture(autouse=True)
def no_google_environment(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ADC, no metadata server, no KMS settings from the developer's shell."""
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    monkeypatch.setattr(gce_metadata, "_NO_GCE_CHECK", True)  # read at import time, perhaps before this fixture
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(env / "gcloud"))
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "FOCUSLINE_KMS_KEY_NAME", "FOCUSLINE_KMS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FOCUSLINE_KMS_TIMEOUT", "3")


@pytest.fixture
def kms() -> Iterator[FakeKms]:
    with FakeKms() as server:
        server.create_key(KEY_A)
        server.create_key(KEY_B)
        yield server


@pytest.fixture
def use_kms(kms: FakeKms, monkeypatch: pytest.MonkeyPatch) -> FakeKms:
    monkeypatch.setenv("FOCUSLINE_KMS_KEY_NAME", KEY_A)
    monkeypatch.setenv("FOCUSLINE_KMS_ENDPOINT", kms.url)
    return kms


@pytest.fixture
def orgs(store: SqliteControlStore) -> SqliteControlStore:
    store.create_org(ORG)
    store.create_org(ORG_2)
    return store


def service(store: SqliteControlStore) -> CredentialService:
    """What `Services.credentials()` builds, from the environment as it is now."""
    return CredentialService(store, KeyRing.from_settings(Settings.from_env()))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli_invoke(*args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin)


# -- basics -----------------------------------------------------------------------------------------


def test_crc32c_is_castagnoli() -> None:
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value (RFC 3720, appendix B.4)
    assert crc32c(b"") == 0


def test_local_round_trip_without_kms(orgs, kms) -> None:
    creds = service(orgs)
    assert creds.set(ORG, "openai", SECRET) == "openai_default"
    assert creds.get(ORG, "openai") == ("openai_default", SECRET)
    assert orgs.get_credential(ORG, "openai", None).key_ref.startswith("local:")
    assert kms.calls == []


def test_kms_round_trip(orgs, use_kms) -> None:
    creds = service(orgs)
    creds.set(ORG, "openai", SECRET)
    stored = orgs.get_credential(ORG, "openai", None)
    assert stored.key_ref == f"{KEY_A}/cryptoKeyVersions/1"  # EncryptResponse.name
    assert service(orgs).get(ORG, "openai") == ("openai_default", SECRET)
    assert [c[:3] for c in use_kms.calls] == [("encrypt", KEY_A, 200), ("decrypt", KEY_A, 200)]
    assert not any(c[3] for c in use_kms.calls)  # loopback endpoint, no ADC: anonymous
    assert not (Path(Settings.from_env().key_file)).exists()  # KMS setups never create a local key


def test_cli_set_and_list_under_kms(orgs, use_kms) -> None:
    result = cli_invoke("credentials", "set", ORG, "openai", stdin=SECRET)
    assert result.exit_code == 0, result.output
    listed = cli_invoke("credentials", "list", ORG, "--json")
    assert f"{KEY_A}/cryptoKeyVersions/1" in listed.output
    assert SECRET not in result.output + listed.output


# -- each credential opens with its own key only -----------------------------------------------------


def test_local_and_kms_credentials_each_decrypt_with_their_own_key(orgs, kms, monkeypatch, env) -> None:
    service(orgs).set(ORG, "openai", SECRET, "local_one")  # local key file (no KMS configured)
    monkeypatch.setenv("FOCUSLINE_KMS_KEY_NAME", KEY_A)
    monkeypatch.setenv("FOCUSLINE_KMS_ENDPOINT", kms.url)
    service(orgs).set(ORG, "openai", SECRET_2, "kms_one")
    assert orgs.get_credential(ORG, "openai", "local_one").key_ref.startswith("local:")
    assert orgs.get_credential(ORG, "openai", "kms_one").key_ref.startswith(KEY_A + "/")

    # KMS configured: the local one still opens with the key file, the KMS one with KMS
    assert service(orgs).get(ORG, "openai", "local_one")[1] == SECRET
    assert service(orgs).get(ORG, "openai", "kms_one")[1] == SECRET_2

    # local configured again: the KMS one opens with the key named in its key_ref
    monkeypatch.delenv("FOCUSLINE_KMS_KEY_NAME")
    assert service(orgs).get(ORG, "openai", "local_one")[1] == SECRET
    assert service(orgs).get(ORG, "openai", "kms_one")[1] == SECRET_2

    # a different local key file: the local one fails clearly, the KMS one is unaffected
    monkeypatch.setenv("FOCUSLINE_KEY_FILE", str(env / "other.key"))
    with pytest.raises(TerminalError, match=r"'local_one'.*encrypted under key local:\w+, but the configured key"):
        service(orgs).get(ORG, "openai", "local_one")
    assert service(orgs).get(ORG, "openai", "kms_one")[1] == SECRET_2

    # KMS configured and the key file gone: a clear error, and no new key file appears
    monkeypatch.setenv("FOCUSLINE_KMS_KEY_NAME", KEY_A)
    missing = env / "missing.key"
    monkeypatch.setenv("FOCUSLINE_KEY_FILE", str(missing))
    with pytest.raises(TerminalError, match=r"wrapped by a local key file, but FOCUSLINE_KEY_FILE .* does not exist"):
        service(orgs).get(ORG, "openai", "local_one")
    assert not missing.exists()

    # KMS no longer reachable: the KMS one fails (transient), the local one never needed KMS
    monkeypatch.delenv("FOCUSLINE_KEY_FILE")
    monkeypatch.setenv("FOCUSLINE_KMS_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("FOCUSLINE_KMS_TIMEOUT", "1")
    assert service(orgs).get(ORG, "openai", "local_one")[1] == SECRET
    with pytest.raises(TransientError, match=r"'kms_one'.*unreachable"):
        service(orgs).get(ORG, "openai", "kms_one")


def test_kms_credential_fails_clearly_when_its_key_is_elsewhere_or_destroyed(orgs, use_kms) -> None:
    service(orgs).set(ORG, "openai", SECRET)
    stored = orgs.get_credential(ORG, "openai", None)

    def point_at(key_ref: str) -> None:
        current = orgs.get_credential(ORG, "openai", None)
        assert orgs.rewrap_credential(current, key_ref=key_ref, wrapped_key=stored.wrapped_key)

    point_at(f"{KEY_B}/cryptoKeyVersions/1")  # another existing key: KMS cannot decrypt with it
    with pytest.raises(TerminalError, match=rf"could not decrypt .* with key {KEY_B}: Decryption failed"):
        service(orgs).get(ORG, "openai")
    point_at("projects/acme/locations/europe-west1/keyRings/focusline/cryptoKeys/gone/cryptoKeyVersions/1")
    with pytest.raises(TerminalError, match=r"cryptoKeys/gone, which wrapped this credential, was not found"):
        service(orgs).get(ORG, "openai")
    point_at(stored.key_ref)
    assert service(orgs).get(ORG, "openai")[1] == SECRET

    # rotated away and the old version destroyed without a re-wrap: unrecoverable, and said so
    use_kms.rotate(KEY_A)
    assert service(orgs).get(ORG, "openai")[1] == SECRET  # old versions still decrypt after rotation
    use_kms.set_version_state(stored.key_ref, "DESTROYED")
    with pytest.raises(TerminalError, match=r"could not decrypt .*current state is: DESTROYED"):
        service(orgs).get(ORG, "openai")


def test_configured_key_moves_on_old_credentials_keep_their_key(orgs, use_kms, monkeypatch) -> None:
    service(orgs).set(ORG, "openai", SECRET)
    monkeypatch.setenv("FOCUSLINE_KMS_KEY_NAME", KEY_B)
    assert service(orgs).get(ORG, "openai")[1] == SECRET  # decrypted with KEY_A, named by its key_ref
    service(orgs).set(ORG_2, "openai", SECRET_2)
    assert orgs.get_credential(ORG_2, "openai", None).key_ref == f"{KEY_B}/cryptoKeyVersions/1"


# -- error mapping -----------------------------------------------------------------------------------


def test_unknown_or_malformed_key_name_is_a_config_error(orgs, use_kms, monkeypatch) -> None:
    monkeypatch.setenv("FOCUSLINE_KMS_KEY_NAME", KEY_A.replace("credentials", "nope"))
    with pytest.raises(ConfigError) as caught:
        service(orgs).set(ORG, "openai", SECRET)
    assert caught.value.field == "FOCUSLINE_KMS_KEY_NAME" and "was not found" in str(caught.value)
    result = cli_invoke("credentials", "set", ORG, "openai", stdin=SECRET)
    assert result.exit_code == 78 and "FOCUSLINE_KMS_KEY_NAME" in result.output

    monkeypatch.setenv("FOCUSLINE_KMS_KEY_NAME", "projects/acme/keyRings/r")
    with pytest.raises(ConfigError, match=r"FOCUSLINE_KMS_KEY_NAME: .* is not a Cloud KMS CryptoKey name"):
        Services.open().credentials()
    monkeypatch.setenv("FOCUSLINE_KMS_KEY_NAME", KEY_A)
    monkeypatch.setenv("FOCUSLINE_KMS_ENDPOINT", "http://kms.example.com:8080")
    with pytest.raises(ConfigError, match=r"FOCUSLINE_KMS_ENDPOINT: .*plain http is only allowed to a loopback"):
        Services.open().credentials()
    assert orgs.list_stored_credentials() == []


def test_permission_denied(orgs, use_kms) -> None:
    service(orgs).set(ORG, "openai", SECRET)
    use_kms.denied.add(KEY_A)
    with pytest.raises(TerminalError, match=rf"KMS denied encrypt for key {KEY_A}: Permission"):
        service(orgs).set(ORG_2, "openai", SECRET_2)
    with pytest.raises(TerminalError, match=rf"'openai_default' of 'org_kms': KMS denied decrypt for key {KEY_A}"):
        service(orgs).get(ORG, "openai")
    result = cli_invoke("credentials", "set", ORG_2, "openai", stdin=SECRET_2)
    assert result.exit_code == 1 and "KMS denied encrypt" in result.output


def test_unreachable_endpoint_is_transient_within_seconds(orgs, monkeypatch) -> None:
    monkeypatch.setenv("FOCUSLINE_KMS_KEY_NAME", KEY_A)
    monkeypatch.setenv("FOCUSLINE_KMS_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("FOCUSLINE_KMS_TIMEOUT", "2")
    started = time.monotonic()
    with pytest.raises(TransientError, match="Cloud KMS unreachable or unavailable for encrypt"):
        service(orgs).set(ORG, "openai", SECRET)
    assert time.monotonic() - started < 5

    with socket.socket() as silent:  # accepts connections, never answers: a read timeout
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setenv("FOCUSLINE_KMS_ENDPOINT", f"http://127.0.0.1:{silent.getsockname()[1]}")
        monkeypatch.setenv("FOCUSLINE_KMS_TIMEOUT", "1")
        started = time.monotonic()
        with pytest.raises(TransientError, match=r"after 1s \(ReadTimeout\)"):
            service(orgs).set(ORG, "openai", SECRET)
        assert time.monotonic() - started < 4
    assert orgs.list_stored_credentials() == []


def test_5xx_is_retried_then_transient(orgs, use_kms, monkeypatch) -> None:
    use_kms.fail_next(2, 503)
    service(orgs).set(ORG, "openai", SECRET)  # two 503s, then success within the timeout
    assert [c[2] for c in use_kms.calls] == [503, 503, 200]
    monkeypatch.setenv("FOCUSLINE_KMS_TIMEOUT", "1")
    use_kms.fail_next(50, 500)
    started = time.monotonic()
    with pytest.raises(TransientError, match="unavailable for decrypt"):
        service(orgs).get(ORG, "openai")
    assert time.monotonic() - started < 4


# -- tampering and moved records ---------------------------------------------------------------------


def _db(settings: Settings) -> sqlite3.Connection:
    return sqlite3.connect(settings.control_url.removeprefix("sqlite:///"))


def _flip_last_byte(settings: Settings, column: str) -> None:
    with _db(settings) as conn:
        (value,) = conn.execute(f"select {column} from credentials where org_slug = ?", (ORG,)).fetchone()
        value = bytes(value[:-1]) + bytes([value[-1] ^ 1])
        conn.execute(f"update credentials set {column} = ? where org_slug = ?", (value, ORG))


def _move_to(settings: Settings, org: str) -> None:
    with _db(settings) as conn:
        conn.execute("update credentials set org_slug = ? where org_slug = ?", (org, ORG))


@pytest.mark.parametrize("wrapper", ["local", "kms"])
def test_tampered_or_moved_credentials_do_not_decrypt(wrapper, orgs, kms, monkeypatch, settings) -> None:
    if wrapper == "kms":
        monkeypatch.setenv("FOCUSLINE_KMS_KEY_NAME", KEY_A)
        monkeypatch.setenv("FOCUSLINE_KMS_ENDPOINT", kms.url)
    service(orgs).set(ORG, "openai", SECRET)

    _flip_last_byte(settings, "ciphertext")
    with pytest.raises(TerminalError, match="failed authentication"):
        service(orgs).get(ORG, "openai")
    _flip_last_byte(settings, "ciphertext")  # restored
    assert service(orgs).get(ORG, "openai")[1] == SECRET

    _flip_last_byte(settings, "wrapped_key")
    with pytest.raises(TerminalError, match=r"could not decrypt|failed authentication"):
        service(orgs).get(ORG, "openai")
    _flip_last_byte(settings, "wrapped_key")

    _move_to(settings, ORG_2)  # the whole record, copied to another organisation
    with pytest.raises(TerminalError, match=r"of 'org_other'.*(could not decrypt|failed authentication)"):
        service(orgs).get(ORG_2, "openai")


# -- re-wrap -----------------------------------------------------------------------------------------


def test_rewrap_after_kms_rotation(orgs, use_kms) -> None:
    service(orgs).set(ORG, "openai", SECRET)
    service(orgs).set(ORG_2, "openai", SECRET_2)
    before = {c.org_slug: c for c in orgs.list_stored_credentials()}
    new_version = use_kms.rotate(KEY_A)

    result = cli_invoke("credentials", "rewrap")
    assert result.exit_code == 0, result.output
    assert "2 credential(s) checked against Cloud KMS key" in result.output and "2 re-wrapped" in result.output
    after = {c.org_slug: c for c in orgs.list_stored_credentials()}
    for org in (ORG, ORG_2):
        assert before[org].key_ref == f"{KEY_A}/cryptoKeyVersions/1"
        assert after[org].key_ref == new_version
        assert after[org].wrapped_key != before[org].wrapped_key
        assert (after[org].nonce, after[org].ciphertext) == (before[org].nonce, before[org].ciphertext)
    use_kms.set_version_state(f"{KEY_A}/cryptoKeyVersions/1", "DESTROYED")
    assert service(orgs).get(ORG, "openai")[1] == SECRET
    assert service(orgs).get(ORG_2, "openai")[1] == SECRET_2

    again = cli_invoke("credentials", "rewrap", "--org", ORG, "--json")
    assert again.exit_code == 0, again.output
    assert '"current": 1' in again.output and '"rewrapped": 0' in again.output and '"total": 1' in again.output
    assert SECRET not in result.output + again.output


def test_rewrap_moves_local_credentials_to_kms_and_between_kms_keys(orgs, kms, monkeypatch, env) -> None:
    service(orgs).set(ORG, "openai", SECRET)
    monkeypatch.setenv("FOCUSLINE_KMS_KEY_NAME", KEY_A)
    monkeypatch.setenv("FOCUSLINE_KMS_ENDPOINT", kms.url)
    report = service(orgs).rewrap()
    assert (report.total, report.rewrapped, report.failures) == (1, 1, [])
    assert orgs.get_credential(ORG, "openai", None).key_ref == f"{KEY_A}/cryptoKeyVersions/1"
    Settings.from_env().key_file.unlink()  # the local key is no longer needed
    assert service(orgs).get(ORG, "openai")[1] == SECRET

    monkeypatch.setenv("FOCUSLINE_KMS_KEY_NAME", KEY_B)  # move to another key, then retire the old one
    assert service(orgs).rewrap().rewrapped == 1
    kms.denied.add(KEY_A)
    assert orgs.get_credential(ORG, "openai", None).key_ref == f"{KEY_B}/cryptoKeyVersions/1"
    assert service(orgs).get(ORG, "openai")[1] == SECRET


def test_rewrap_reports_failures_and_leaves_concurrent_changes_alone(orgs, use_kms, monkeypatch) -> None:
    service(orgs).set(ORG, "openai", SECRET, "lost")
    use_kms.rotate(KEY_A)
    use_kms.set_version_state(f"{KEY_A}/cryptoKeyVersions/1", "DESTROYED")
    service(orgs).set(ORG, "openai", SECRET_2, "racing")
    use_kms.rotate(KEY_A)

    creds = service(orgs)
    real_wrap = KmsKeyWrapper.wrap

    raced: list[bool] = []

    def wrap_while_someone_sets_it_again(self, data_key, aad):
        result = real_wrap(self, data_key, aad)
        if b":racing" in aad and not raced:
            raced.append(True)
            service(orgs).set(ORG, "openai", SECRET, "racing")
        return result

    monkeypatch.setattr(KmsKeyWrapper, "wrap", wrap_while_someone_sets_it_again)
    report = creds.rewrap(ORG)
    assert (report.total, report.rewrapped, report.conflicts) == (2, 0, 1)
    assert [(o, c) for o, c, _ in report.failures] == [(ORG, "lost")]
    assert "DESTROYED" in report.failures[0][2] and SECRET not in report.failures[0][2]
    assert service(orgs).get(ORG, "openai", "racing")[1] == SECRET  # the concurrent set won, intact

    monkeypatch.setattr(KmsKeyWrapper, "wrap", real_wrap)
    result = cli_invoke("credentials", "rewrap", "--org", ORG)
    assert result.exit_code == 1
    assert "failed: org_kms/lost:" in result.output and "1 failed" in result.output


# -- no secret anywhere ------------------------------------------------------------------------------


def test_no_secret_in_logs_errors_run_records_or_the_database(
    orgs, use_kms, monkeypatch, caplog, settings, request
) -> None:
    caplog.set_level(logging.DEBUG)
    # the google-* client libraries may stop their loggers propagating to the root (where caplog listens)
    monkeypatch.setattr(client_logging, "_LOGGING_INITIALIZED", True)
    monkeypatch.setattr(logging.getLogger("google"), "propagate", True)
    data_keys: list[bytes] = []
    real_wrap = KmsKeyWrapper.wrap

    def spy(self, data_key, aad):
        data_keys.append(data_key)
        return real_wrap(self, data_key, aad)

    monkeypatch.setattr(KmsKeyWrapper, "wrap", spy)
    texts: list[str] = []

    result = cli_invoke("--verbose", "credentials", "set", ORG, "openai", stdin=SECRET)
    assert result.exit_code == 0, result.output
    texts.append(result.output)
    # the CLI quiets google.*; as a library (a future API server) nothing does: let them all talk
    google_logger = logging.getLogger("google")
    request.addfinalizer(lambda level=google_logger.level: google_logger.setLevel(level))
    google_logger.setLevel(logging.DEBUG)
    assert service(orgs).get(ORG, "openai")[1] == SECRET
    use_kms.rotate(KEY_A)
    rewrapped = service(orgs).rewrap()
    assert rewrapped.rewrapped == 1
    texts.append(repr(rewrapped))

    # a pipeline run whose credential KMS refuses: the failure is recorded, the secret is not
    use_kms.denied.add(KEY_A)
    report = run_pipeline(Services.open(), ORG, "genai/payg/openai")
    run = orgs.get_run(ORG, report.run_id)
    steps = orgs.list_steps(report.run_id)
    assert run["status"] == "failed"
    assert any("KMS denied decrypt" in (s.get("error") or "") for s in steps), steps
    texts += [repr(run), repr(steps), repr(orgs.list_transitions(report.run_id))]
    for call in (lambda: service(orgs).get(ORG, "openai"), lambda: service(orgs).set(ORG, "openai", SECRET)):
        with pytest.raises(FocuslineError) as caught:
            call()
        texts.append(f"{caught.value} {caught.value.context}")

    assert len(data_keys) == 3  # set, rewrap, and the refused set
    needles = [SECRET.encode(), base64.b64encode(SECRET.encode())]
    needles += [k for k in data_keys] + [base64.b64encode(k) for k in data_keys]
    haystack = "\n".join(texts + [f"{r.getMessage()} {r.__dict__}" for r in caplog.records]).encode()
    db = Path(settings.control_url.removeprefix("sqlite:///"))
    files = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    for needle in needles:
        assert needle not in haystack
        assert needle not in files
    assert any("re-wrapped" in r.getMessage() for r in caplog.records)  # logging did happen
