"""The boto3 artifact store against a real S3-compatible server (SeaweedFS): round trips, multipart, and the
failure cases (server down, wrong secret, corrupted download)."""

from __future__ import annotations

import os
import socket

import pytest

from model.io_atomic import sha256_file
from model.storage import (
    ArtifactStore,
    ChecksumMismatchError,
    StorageAuthError,
    StorageError,
    StorageUnreachableError,
    parse_s3_uri,
)
from model.storage.store import StoreConfig

MB = 1024 * 1024


def store(**kw) -> ArtifactStore:
    return ArtifactStore(StoreConfig.from_env(multipart_threshold=5 * MB, multipart_chunksize=5 * MB, **kw),
                         sleep=lambda s: None)


def test_round_trip_multipart_and_folders(s3_env, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(11 * MB))  # 3 parts of 5 MB
    s = store()
    up = s.upload_file(big, "t/big.bin")
    assert up["sha256"] == sha256_file(big) and up["size"] == 11 * MB
    head = s.client.head_object(Bucket="autofm", Key="t/big.bin")
    assert head["ETag"].strip('"').endswith("-3")  # really multipart
    got = s.download_file("t/big.bin", tmp_path / "out" / "big.bin")
    assert got["sha256"] == up["sha256"] == sha256_file(tmp_path / "out" / "big.bin")

    src = tmp_path / "tree"
    (src / "a" / "b").mkdir(parents=True)
    (src / "a" / "b" / "x.txt").write_text("x")
    (src / "y.txt").write_text("y")
    assert len(s.upload_dir(src, "tree")) == 2
    s.download_prefix("tree", tmp_path / "copy")
    assert (tmp_path / "copy" / "a" / "b" / "x.txt").read_text() == "x"
    with pytest.raises(StorageError, match="nothing under"):
        s.download_prefix("absent", tmp_path / "none")


def test_corrupted_object_is_rejected_and_nothing_written(s3_env, tmp_path):
    f = tmp_path / "f.bin"
    f.write_bytes(b"good bytes" * 1000)
    s = store()
    up = s.upload_file(f, "t/f.bin")
    # Bit rot / a tampered object: other bytes under the same key, the recorded checksum unchanged.
    s.client.put_object(Bucket="autofm", Key="t/f.bin", Body=b"bad bytes!" * 1000, Metadata={"sha256": up["sha256"]})
    target = tmp_path / "dl" / "f.bin"
    with pytest.raises(ChecksumMismatchError, match="differs from the recorded"):
        s.download_file("t/f.bin", target)
    assert not target.exists() and list(target.parent.iterdir()) == []


def test_wrong_secret_is_an_auth_error_naming_the_variables(s3_env):
    s = ArtifactStore(StoreConfig.from_env(), sleep=lambda s: None)
    s.client = ArtifactStore(StoreConfig(bucket="autofm", endpoint_url=s3_env["AUTOFM_S3_ENDPOINT"],
                                         access_key=s3_env["AWS_ACCESS_KEY_ID"], secret_key="wrong-secret")).client
    with pytest.raises(StorageAuthError, match="AWS_SECRET_ACCESS_KEY") as e:
        s.list_keys("t")
    assert "wrong-secret" not in str(e.value)


def test_server_down_is_unreachable_after_retries_with_backoff():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    waits: list[float] = []
    s = ArtifactStore(StoreConfig(bucket="b", endpoint_url=f"http://127.0.0.1:{port}", access_key="k",
                                  secret_key="s", max_attempts=3, backoff_s=0.1, connect_timeout_s=1),
                      sleep=waits.append)
    with pytest.raises(StorageUnreachableError, match=f"127.0.0.1:{port}.*unreachable after 3 attempts"):
        s.head("x")
    assert waits == [0.1, 0.2]


def test_ingest_from_s3_uri(s3_env, small_cohort, tmp_path):
    from pipelines.steps import ingest_step

    store().upload_dir(small_cohort, "cohorts/small")
    rec = ingest_step("s3://autofm/cohorts/small", tmp_path / "ingested", tasks=("mortality",))
    assert rec["source"] == "s3://autofm/cohorts/small" and rec["n_subjects"] > 100
    assert (tmp_path / "ingested" / "manifest.json").is_file()


def test_bad_uris_and_missing_bucket(monkeypatch):
    assert parse_s3_uri("s3://b/k/x") == ("b", "k/x")
    with pytest.raises(ValueError, match="s3://bucket/key"):
        parse_s3_uri("http://b/k")
    monkeypatch.delenv("AUTOFM_S3_BUCKET", raising=False)
    with pytest.raises(StorageError, match="AUTOFM_S3_BUCKET"):
        StoreConfig.from_env()
