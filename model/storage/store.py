"""Upload and download artifacts to S3-compatible storage (AWS S3, MinIO, SeaweedFS) with verified SHA-256.

Every object carries its SHA-256 in its user metadata (`sha256`); a download is checked against it before the file
appears (atomic rename), so a corrupted or truncated object never lands on disk. Large files go multipart. Transient
failures (connection refused, timeouts, 5xx, throttling) are retried with exponential backoff; once retries are
exhausted the error names the endpoint. Credentials come from the arguments or the environment, never from a file
in the repository.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from model.io_atomic import atomic_file, sha256_file

T = TypeVar("T")
AUTH_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken", "403"}
RETRY_CODES = {"500", "502", "503", "504", "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable"}


class StorageError(RuntimeError):
    """A storage operation failed; the message names the endpoint, bucket and key."""


class StorageUnreachableError(StorageError):
    """The endpoint did not answer (down, wrong address, network) after all retries."""


class StorageAuthError(StorageError):
    """The endpoint rejected the credentials (wrong key or secret, or no permission)."""


class ChecksumMismatchError(StorageError):
    """The downloaded bytes do not match the SHA-256 recorded at upload."""


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """'s3://bucket/some/key' -> ('bucket', 'some/key').

    Raises:
        ValueError: Not an s3:// URI with a bucket.
    """
    if not uri.startswith("s3://") or not uri[5:].split("/", 1)[0]:
        raise ValueError(f"{uri!r}: expected an s3://bucket/key URI")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


@dataclass(frozen=True)
class StoreConfig:
    """Where and how to connect. `from_env` reads AUTOFM_S3_ENDPOINT (or AWS_ENDPOINT_URL), AUTOFM_S3_BUCKET,
    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION."""

    bucket: str
    endpoint_url: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    region: str = "us-east-1"
    max_attempts: int = 4
    backoff_s: float = 0.5
    connect_timeout_s: float = 3.0
    multipart_threshold: int = 16 * 1024 * 1024
    multipart_chunksize: int = 8 * 1024 * 1024

    @classmethod
    def from_env(cls, bucket: str | None = None, **overrides: Any) -> StoreConfig:
        env = os.environ
        bucket = bucket or env.get("AUTOFM_S3_BUCKET")
        if not bucket:
            raise StorageError("no bucket: pass one or set AUTOFM_S3_BUCKET")
        return cls(bucket=bucket, endpoint_url=env.get("AUTOFM_S3_ENDPOINT") or env.get("AWS_ENDPOINT_URL"),
                   access_key=env.get("AWS_ACCESS_KEY_ID"), secret_key=env.get("AWS_SECRET_ACCESS_KEY"),
                   region=env.get("AWS_DEFAULT_REGION", "us-east-1"), **overrides)


class ArtifactStore:
    """One bucket of an S3-compatible endpoint."""

    def __init__(self, config: StoreConfig, *, sleep: Callable[[float], None] = time.sleep) -> None:
        import boto3
        from botocore.config import Config

        self.config, self._sleep = config, sleep
        self.where = f"{config.endpoint_url or 'AWS S3'} bucket '{config.bucket}'"
        self.client = boto3.client(
            "s3", endpoint_url=config.endpoint_url, region_name=config.region,
            aws_access_key_id=config.access_key, aws_secret_access_key=config.secret_key,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=config.connect_timeout_s,
                          read_timeout=60, signature_version="s3v4", s3={"addressing_style": "path"}))

    # ------------------------------------------------------------------ retries and error mapping
    def _call(self, what: str, fn: Callable[[], T]) -> T:
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

        last: Exception | None = None
        for attempt in range(self.config.max_attempts):
            try:
                return fn()
            except (ClientError, S3UploadFailedError) as e:
                code = _code(e)
                if code in AUTH_CODES:
                    raise StorageAuthError(f"{what}: {self.where} rejected the credentials ({code}); check "
                                           "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY") from e
                if code not in RETRY_CODES:
                    raise StorageError(f"{what}: {self.where}: {code or e}") from e
                last = e
            except (EndpointConnectionError, BotoCoreError, ConnectionError, TimeoutError) as e:
                last = e
            if attempt + 1 < self.config.max_attempts:
                self._sleep(self.config.backoff_s * 2**attempt)
        raise StorageUnreachableError(f"{what}: {self.where} unreachable after {self.config.max_attempts} "
                                      f"attempts: {type(last).__name__}: {last}") from last

    # ------------------------------------------------------------------ files
    def upload_file(self, local: str | Path, key: str) -> dict[str, Any]:
        """Upload one file (multipart above the threshold) with its SHA-256 in the object metadata.

        Returns:
            {'key', 'size', 'sha256'}.
        """
        from boto3.s3.transfer import TransferConfig

        local = Path(local)
        if not local.is_file():
            raise FileNotFoundError(f"{local}: no such file to upload")
        digest = sha256_file(local)
        tc = TransferConfig(multipart_threshold=self.config.multipart_threshold,
                            multipart_chunksize=self.config.multipart_chunksize, use_threads=False)
        self._call(f"upload {local} -> {key}", lambda: self.client.upload_file(
            str(local), self.config.bucket, key, ExtraArgs={"Metadata": {"sha256": digest}}, Config=tc))
        head = self.head(key)
        if head["size"] != local.stat().st_size or head["sha256"] != digest:
            raise ChecksumMismatchError(f"upload {local} -> {key}: {self.where} holds {head}, expected sha256 "
                                        f"{digest} and {local.stat().st_size} bytes")
        return {"key": key, "size": head["size"], "sha256": digest}

    def head(self, key: str) -> dict[str, Any]:
        """Size and recorded SHA-256 of an object (sha256 None when it was not uploaded by this store)."""
        r = self._call(f"head {key}", lambda: self.client.head_object(Bucket=self.config.bucket, Key=key))
        return {"size": int(r["ContentLength"]), "sha256": r.get("Metadata", {}).get("sha256")}

    def download_file(self, key: str, local: str | Path) -> dict[str, Any]:
        """Download one object; the file appears only when its SHA-256 matches the recorded one.

        Raises:
            ChecksumMismatchError: The bytes differ from what was uploaded (nothing is written).
            StorageError: No recorded checksum (the object was not written by an ArtifactStore).
        """
        local = Path(local)
        head = self.head(key)
        if not head["sha256"]:
            raise StorageError(f"download {key}: {self.where}: object has no sha256 metadata to verify against")
        hs = [hashlib.sha256()]
        with atomic_file(local, "wb") as fh:
            def fetch() -> None:  # a retry starts the file and the hash again
                fh.seek(0)
                fh.truncate()
                hs[0] = h = hashlib.sha256()
                body = self.client.get_object(Bucket=self.config.bucket, Key=key)["Body"]
                for chunk in body.iter_chunks(1 << 20):
                    fh.write(chunk)
                    h.update(chunk)

            self._call(f"download {key}", fetch)
            h = hs[0]
            if h.hexdigest() != head["sha256"]:
                raise ChecksumMismatchError(f"download {key}: {self.where}: sha256 {h.hexdigest()} differs from "
                                            f"the recorded {head['sha256']}; {local} was not written")
        return {"key": key, "size": head["size"], "sha256": head["sha256"]}

    # ------------------------------------------------------------------ folders
    def list_keys(self, prefix: str) -> list[str]:
        def run() -> list[str]:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.config.bucket, Prefix=prefix)
            return [o["Key"] for p in pages for o in p.get("Contents", [])]

        return self._call(f"list {prefix}", run)

    def upload_dir(self, local_dir: str | Path, prefix: str) -> list[dict[str, Any]]:
        """Upload every file under local_dir to prefix/<relative path>."""
        root = Path(local_dir)
        return [self.upload_file(f, f"{prefix.rstrip('/')}/{f.relative_to(root).as_posix()}")
                for f in sorted(p for p in root.rglob("*") if p.is_file())]

    def download_prefix(self, prefix: str, local_dir: str | Path) -> list[dict[str, Any]]:
        """Download every object under prefix into local_dir, keeping relative paths; each one verified.

        Raises:
            StorageError: Nothing under the prefix.
        """
        prefix = prefix.rstrip("/") + "/" if prefix else ""
        keys = self.list_keys(prefix)
        if not keys:
            raise StorageError(f"{self.where}: nothing under '{prefix}'")
        return [self.download_file(k, Path(local_dir) / k[len(prefix):]) for k in keys]


def _code(e: Exception) -> str:
    resp = getattr(e, "response", None) or {}
    code = str(resp.get("Error", {}).get("Code", ""))
    if not code and getattr(e, "args", None):
        text = str(e.args[0])
        code = next((c for c in AUTH_CODES | RETRY_CODES if c in text), "")
    return code
