"""Diagnosis (3-character ICD) and phenotype labels from the discharge diagnoses of each sample's admission."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from model.data.phenotypes import benchmark_phenotypes, code_to_phenotypes, phenotype_slug
from model.data.tasks import TaskCodes

DIAG_RE = r"^DIAGNOSIS//ICD//(9|10)//(.+)$"


def _shard_diagnoses(samples: pl.DataFrame, shard: Path, codes: TaskCodes) -> pl.DataFrame:
    """(subject_id, anchor_time, version, icd) for diagnoses stamped in (anchor, end of that admission]."""
    lf = pl.scan_parquet(shard).select("subject_id", "time", "code").filter(pl.col("time").is_not_null())
    end_expr = pl.col("code").str.starts_with(codes.hospital_discharge) | (pl.col("code") == codes.death)
    ends = lf.filter(end_expr).select("subject_id", pl.col("time").alias("end_time")).unique().sort("end_time")
    diag = (lf.filter(pl.col("code").str.starts_with("DIAGNOSIS//ICD//"))
            .with_columns(pl.col("code").str.extract(DIAG_RE, 1).alias("version"),
                          pl.col("code").str.extract(DIAG_RE, 2).alias("icd")))
    s = samples.lazy().select("subject_id", "anchor_time").sort("anchor_time")
    # The admission of a sample ends at the first discharge or death after its anchor.
    s = s.join_asof(ends, left_on="anchor_time", right_on="end_time", by="subject_id", strategy="forward")
    out = (s.join(diag, on="subject_id", how="inner")
           .filter((pl.col("time") > pl.col("anchor_time")) & (pl.col("time") <= pl.col("end_time")))
           .select("subject_id", "anchor_time", "version", "icd"))
    return out.collect()


def sample_diagnoses(samples: pl.DataFrame, shards: list[Path], codes: TaskCodes = TaskCodes()) -> pl.DataFrame:
    """All discharge diagnoses of each sample's admission, one row per (sample, code)."""
    ids = samples["subject_id"].unique().implode()
    parts = []
    for shard in shards:
        in_shard = pl.scan_parquet(shard).select("subject_id").filter(pl.col("subject_id").is_in(ids)).unique()
        sub = samples.join(in_shard.collect(), on="subject_id", how="semi")
        if sub.height:
            parts.append(_shard_diagnoses(sub, shard, codes))
    if not parts:
        return pl.DataFrame(schema={"subject_id": pl.Int64, "anchor_time": pl.Datetime("us"), "version": pl.Utf8,
                                    "icd": pl.Utf8})
    return pl.concat(parts)


def diagnosis_groups(diags: pl.DataFrame) -> pl.DataFrame:
    """Per sample, the sorted '|'-joined 3-character ICD groups ('9:428|10:I50'): the diagnosis task's label."""
    g = diags.with_columns(
        pl.when((pl.col("version") == "9") & pl.col("icd").str.starts_with("E"))
        .then(pl.col("icd").str.slice(0, 4)).otherwise(pl.col("icd").str.slice(0, 3)).alias("g")
    ).with_columns((pl.col("version") + ":" + pl.col("g")).alias("group"))
    return g.group_by("subject_id", "anchor_time").agg(pl.col("group").unique().sort().str.join("|"))


def phenotype_matrix(diags: pl.DataFrame) -> pl.DataFrame:
    """Per sample with any diagnosis, one boolean column per benchmark phenotype (slug names)."""
    owners = code_to_phenotypes()
    names = benchmark_phenotypes()
    mapping = pl.DataFrame(
        [(code, phenotype_slug(n)) for code, ns in owners.items() for n in ns], schema=["icd", "phenotype"],
        orient="row",
    )
    hits = diags.join(mapping, on="icd", how="inner").select("subject_id", "anchor_time", "phenotype").unique()
    keys = diags.select("subject_id", "anchor_time").unique()
    wide = keys
    for n in names:
        slug = phenotype_slug(n)
        one = hits.filter(pl.col("phenotype") == slug).select("subject_id", "anchor_time", pl.lit(True).alias(slug))
        wide = wide.join(one, on=["subject_id", "anchor_time"], how="left")
    return wide.with_columns([pl.col(phenotype_slug(n)).fill_null(False) for n in names])
