"""The artifact store: S3-compatible object storage on boto3, with verified checksums."""

from model.storage.store import (
    ArtifactStore,
    ChecksumMismatchError,
    StorageAuthError,
    StorageError,
    StorageUnreachableError,
    parse_s3_uri,
)

__all__ = ["ArtifactStore", "ChecksumMismatchError", "StorageAuthError", "StorageError", "StorageUnreachableError",
           "parse_s3_uri"]
