"""The BigQuery production target: where an organisation's data lives and how to reach it.

One dataset per organisation and environment, ``<org_slug>_<env>`` (DESIGN.md, tenancy). The same
``FOCUSLINE_BQ_*`` variables configure the Python loader (here) and dbt (profiles.yml ``bigquery``
target), so both always write to the same place:

* ``FOCUSLINE_ENV`` environment suffix of the dataset (default ``local``; e.g. ``prod``, ``stage``)
* ``FOCUSLINE_BQ_PROJECT`` GCP project (required)
* ``FOCUSLINE_BQ_LOCATION`` dataset and job location (default ``US``)
* ``FOCUSLINE_BQ_API_ENDPOINT`` API endpoint override (an emulator); unset = Google's endpoint
* ``FOCUSLINE_BQ_METHOD`` ``oauth`` (Application Default Credentials, default), ``service-account``
  (``FOCUSLINE_BQ_KEYFILE``) or ``oauth-secrets`` (``FOCUSLINE_BQ_TOKEN``, e.g. a dummy token for an
  emulator)
* ``FOCUSLINE_BQ_JOB_TIMEOUT_SECONDS`` how long one job may run (default 600)
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from focusline.errors import ConfigError
from focusline.tenancy import validate_org_slug

if TYPE_CHECKING:
    from google.cloud import bigquery

DEFAULT_ENV = "local"
DEFAULT_LOCATION = "US"
DEFAULT_JOB_TIMEOUT_SECONDS = 600.0
METHODS = ("oauth", "service-account", "oauth-secrets")
_ENV_PATTERN = re.compile(r"^[a-z0-9_]{1,20}$")
# GCP project ids: 6-30 chars, lower-case letters, digits, hyphens (domain-scoped ids have a colon)
_PROJECT_PATTERN = re.compile(r"^([a-z][a-z0-9.-]{0,62}:)?[a-z][a-z0-9-]{4,29}$")
_SCOPES = ("https://www.googleapis.com/auth/bigquery",)


def focusline_env() -> str:
    """The environment suffix of the per-organisation dataset (``FOCUSLINE_ENV``, default ``local``)."""
    env = os.environ.get("FOCUSLINE_ENV") or DEFAULT_ENV
    if not _ENV_PATTERN.fullmatch(env):
        raise ConfigError(f"must be 1-20 characters from a-z, 0-9 and _, got {env!r}", field="FOCUSLINE_ENV")
    return env


def org_dataset(org_slug: str) -> str:
    """``<org_slug>_<env>``: the organisation's BigQuery dataset (raw tables and dbt models)."""
    return f"{validate_org_slug(org_slug)}_{focusline_env()}"


@dataclass(frozen=True)
class BigQuerySettings:
    project: str
    location: str
    api_endpoint: str | None
    method: str
    keyfile: str | None
    token: str | None
    job_timeout_seconds: float

    @classmethod
    def from_env(cls) -> BigQuerySettings:
        env = os.environ
        project = env.get("FOCUSLINE_BQ_PROJECT") or ""
        if not _PROJECT_PATTERN.fullmatch(project):
            raise ConfigError(
                f"must name the GCP project for the bigquery target, got {project!r}", field="FOCUSLINE_BQ_PROJECT"
            )
        method = env.get("FOCUSLINE_BQ_METHOD") or "oauth"
        if method not in METHODS:
            raise ConfigError(f"must be one of {', '.join(METHODS)}, got {method!r}", field="FOCUSLINE_BQ_METHOD")
        keyfile = env.get("FOCUSLINE_BQ_KEYFILE") or None
        token = env.get("FOCUSLINE_BQ_TOKEN") or None
        if method == "service-account" and not keyfile:
            raise ConfigError("is required with FOCUSLINE_BQ_METHOD=service-account", field="FOCUSLINE_BQ_KEYFILE")
        if method == "oauth-secrets" and not token:
            raise ConfigError("is required with FOCUSLINE_BQ_METHOD=oauth-secrets", field="FOCUSLINE_BQ_TOKEN")
        raw_timeout = env.get("FOCUSLINE_BQ_JOB_TIMEOUT_SECONDS") or str(DEFAULT_JOB_TIMEOUT_SECONDS)
        try:
            timeout = float(raw_timeout)
        except ValueError:
            raise ConfigError(
                f"must be a number, got {raw_timeout!r}", field="FOCUSLINE_BQ_JOB_TIMEOUT_SECONDS"
            ) from None
        return cls(
            project=project,
            location=env.get("FOCUSLINE_BQ_LOCATION") or DEFAULT_LOCATION,
            api_endpoint=env.get("FOCUSLINE_BQ_API_ENDPOINT") or None,
            method=method,
            keyfile=keyfile,
            token=token,
            job_timeout_seconds=timeout,
        )

    def client(self) -> bigquery.Client:
        """A BigQuery client with the configured credentials, location and endpoint."""
        from google.api_core.client_options import ClientOptions
        from google.cloud import bigquery

        credentials = None  # oauth: Application Default Credentials, resolved by the client
        if self.method == "oauth-secrets":
            from google.oauth2.credentials import Credentials

            credentials = Credentials(token=self.token)
        elif self.method == "service-account":
            from google.oauth2 import service_account

            credentials = service_account.Credentials.from_service_account_file(str(self.keyfile), scopes=_SCOPES)
        options = ClientOptions(api_endpoint=self.api_endpoint) if self.api_endpoint else None
        return bigquery.Client(
            project=self.project, credentials=credentials, location=self.location, client_options=options
        )
