"""File sources shared by every billing export: where files are (a ``FileStore``) and how to read them.

A source URI is resolved by its scheme:

* a local path (no scheme or ``file://``): one file, a directory (every file below it, recursively)
  or a glob (``exports/**/*.csv.gz``);
* ``s3://``, ``gs://``, ``az://`` (``abfs://``, ``azure://``): accepted by the interface, answered
  with a ConfigError until an object store client is added (the same ``FileStore`` protocol).

Every file is described by a ``FileInfo`` (uri, size, modified time, sha256): its identity goes
into the ``x_source_file*`` lineage columns of every row read from it. Readers load CSV (plain or
gzip), Parquet and JSON lines with DuckDB's own readers, never through Python row loops.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

import duckdb

from focusline.errors import ConfigError, InputDataError

logger = logging.getLogger(__name__)

FileFormat = Literal["csv", "parquet", "jsonl"]
OBJECT_STORE_SCHEMES = ("s3", "gs", "az", "abfs", "abfss", "azure")
_HASH_CHUNK = 1 << 20

# lineage columns describing the file a row came from (``x_`` prefixed, STYLE 4.2)
SOURCE_FILE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("x_source_file", "VARCHAR"),
    ("x_source_file_size", "BIGINT"),
    ("x_source_file_modified_at", "TIMESTAMP"),
    ("x_source_file_sha256", "VARCHAR"),
    ("x_source_row_number", "BIGINT"),
)


@dataclass(frozen=True)
class FileInfo:
    """The identity of one source file."""

    uri: str
    size: int
    modified_at: dt.datetime  # tz-aware, UTC
    sha256: str
    local_path: Path | None = None  # set when DuckDB can read the file directly
    file_format: FileFormat | None = None  # when the uri has no file name to tell it (a table's local copy)

    @property
    def format(self) -> FileFormat:
        return self.file_format or detect_format(self.uri)


class FileStore(Protocol):
    """Where billing export files live: list the files of a URI, open one for reading."""

    scheme: str

    def list(self, uri: str) -> list[FileInfo]: ...

    def open(self, info: FileInfo) -> BinaryIO: ...


def file_sha256(path: Path) -> str:
    """The hex SHA-256 of a file's bytes (read in chunks)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class LocalFileStore:
    """Files on the local file system: a file, a directory (recursive) or a glob pattern."""

    scheme = "file"

    def list(self, uri: str) -> list[FileInfo]:
        path_text = uri.removeprefix("file://")
        path = Path(path_text).expanduser()
        if any(ch in path_text for ch in "*?["):
            paths = [Path(p) for p in glob.glob(str(path), recursive=True)]
        elif path.is_dir():
            paths = [p for p in path.rglob("*")]
        elif path.exists():
            paths = [path]
        else:
            raise ConfigError(f"source {uri!r} does not exist", field="uri")
        files = sorted(p for p in paths if p.is_file() and not p.name.startswith((".", "_")))
        infos = []
        for file in files:
            if detect_format(str(file), strict=False) is None:
                logger.info("skipping %s: not a CSV, Parquet or JSON lines file", file)
                continue
            stat = file.stat()
            infos.append(
                FileInfo(
                    uri=str(file.resolve()),
                    size=stat.st_size,
                    modified_at=dt.datetime.fromtimestamp(stat.st_mtime, tz=dt.UTC),
                    sha256=file_sha256(file),
                    local_path=file.resolve(),
                )
            )
        return infos

    def open(self, info: FileInfo) -> BinaryIO:
        return Path(info.uri).open("rb")


@dataclass(frozen=True)
class UnavailableObjectStore:
    """An object store scheme the interface accepts but no client implements yet."""

    scheme: str

    def _refuse(self, uri: str) -> ConfigError:
        return ConfigError(
            f"object store not available yet: {self.scheme}:// sources are accepted by the interface but this "
            f"installation has no {self.scheme} client; copy the export locally and point uri at it ({uri})",
            field="uri",
        )

    def list(self, uri: str) -> list[FileInfo]:
        raise self._refuse(uri)

    def open(self, info: FileInfo) -> BinaryIO:
        raise self._refuse(info.uri)


def resolve_store(uri: str) -> FileStore:
    """The FileStore for ``uri`` by its scheme (local paths have none or ``file://``)."""
    if not uri or not uri.strip():
        raise ConfigError("a source uri is required", field="uri")
    scheme, sep, _ = uri.partition("://")
    if not sep or scheme == "file":
        return LocalFileStore()
    if scheme.lower() in OBJECT_STORE_SCHEMES:
        return UnavailableObjectStore(scheme.lower())
    raise ConfigError(f"unsupported source scheme {scheme!r} in {uri!r}", field="uri")


def list_files(uri: str) -> list[FileInfo]:
    """Every readable file of ``uri``; a URI that matches no file is a ConfigError."""
    files = resolve_store(uri).list(uri)
    if not files:
        raise ConfigError(f"source {uri!r} matches no CSV, Parquet or JSON lines file", field="uri")
    return files


def quote_identifier(name: str) -> str:
    """A DuckDB identifier for a source column name (any characters, quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def detect_format(name: str, *, strict: bool = True) -> FileFormat | None:
    """The file format from the name: .csv/.csv.gz, .parquet/.snappy.parquet, .jsonl/.ndjson(.gz)."""
    lower = name.lower()
    for suffix in (".gz", ".gzip", ".zst"):
        lower = lower.removesuffix(suffix)
    if lower.endswith((".csv", ".txt")):
        return "csv"
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if strict:
        raise InputDataError(f"{name}: unknown file format (expected CSV, Parquet or JSON lines)")
    return None


def read_relation(conn: duckdb.DuckDBPyConnection, info: FileInfo, view_name: str) -> list[str]:
    """Create view ``view_name`` over the file with DuckDB's reader; return its column names.

    CSV is read with every column as VARCHAR (explicit casts happen in SQL afterwards, so nothing is
    guessed and no money value passes through a float); short rows are padded with NULLs (some
    exports write ragged rows). Parquet and JSON lines keep their own types.
    """
    if info.local_path is None:  # pragma: no cover - object stores are not implemented yet
        raise ConfigError(f"{info.uri}: only local files can be read yet", field="uri")
    path = str(info.local_path)
    fmt = info.format
    if fmt == "csv":
        reader = (
            "read_csv(?, header = true, all_varchar = true, null_padding = true, delim = ',', quote = '\"', "
            "escape = '\"', compression = 'auto', sample_size = -1)"
        )
    elif fmt == "parquet":
        reader = "read_parquet(?)"
    else:
        reader = "read_json(?, format = 'newline_delimited', compression = 'auto')"
    try:
        try:
            conn.execute(f"create or replace temp table {view_name} as select * from {reader}", [path])
        except duckdb.Error as exc:
            # mixed line endings (CRLF rows, LF last row: seen in koku's Azure samples) defeat the strict
            # dialect check; read once more without it, with the same explicit dialect
            if fmt != "csv" or "sniffing" not in str(exc):
                raise
            logger.warning("%s: not strict CSV (e.g. mixed line endings); read without strict mode", info.uri)
            lenient = reader.replace("sample_size = -1)", "sample_size = -1, strict_mode = false)")
            conn.execute(f"create or replace temp table {view_name} as select * from {lenient}", [path])
        columns = [row[0] for row in conn.execute(f"describe {view_name}").fetchall()]
    except duckdb.Error as exc:
        detail = " ".join(str(exc).split())[:400]
        raise InputDataError(f"{info.uri}: cannot read as {fmt}: {detail}", source=info.uri) from None
    return columns
