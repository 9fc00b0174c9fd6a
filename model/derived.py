"""The derived AutoFM model: only the genotype's chosen ops, loadable without any supernet code or pickle.

On disk a derived model is a directory with ``genotype.json`` (the architecture and search-space config) and
``weights.safetensors`` (its state dict). An ensemble of several trainings of the same genotype
(``DerivedEnsemble``) keeps that layout: its weights carry ``members.<i>.`` prefixes and a ``members`` count in the
safetensors metadata.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from model.io_atomic import atomic_dir
from model.search.batch import MultimodalBatch
from model.search.cells import ModalityCell
from model.search.embedding import InputEmbeddings
from model.search.fusion import PredictionHead, build_fusion_op, node_input_names
from model.search.genotype import Genotype
from model.search.loss import predict_scores
from model.search.ops import build_op

GENOTYPE_FILE = "genotype.json"
WEIGHTS_FILE = "weights.safetensors"


class DerivedFusionNode(nn.Module):
    """A fusion node with fixed inputs and one fusion op."""

    def __init__(self, input_index: list[int], op_name: str, d_e: int) -> None:
        super().__init__()
        self.input_index = list(input_index)
        self.op = build_fusion_op(op_name, d_e)

    def forward(self, inputs: list[Tensor], valid: Tensor) -> Tensor:
        """Fuse the selected inputs; ``valid`` [B, n_all] covers all candidate inputs."""
        if self.input_index:
            u = torch.stack([inputs[i] for i in self.input_index], dim=1)
        else:
            u = inputs[0].new_zeros(inputs[0].shape[0], 0, inputs[0].shape[1])
        return self.op(u, valid[:, self.input_index])


def used_modalities(genotype: Genotype) -> tuple[list[str], list[str]]:
    """Cells the fusion DAG reads, and modalities whose embedding is needed (cells plus interaction partners)."""
    names = genotype.config.modality_names
    cells = [m for m in names if any(m in node.inputs for node in genotype.nodes)]
    partners = {op.partition(":")[2] for m in cells for op in genotype.cells[m]} - {""}
    return cells, [m for m in names if m in cells or m in partners]


class DerivedModel(nn.Module):
    """The discrete network of a genotype.

    Args:
        genotype: The architecture; cells the fusion DAG never reads are not built.
    """

    def __init__(self, genotype: Genotype) -> None:
        super().__init__()
        self.genotype = genotype
        cfg = self.config = genotype.config
        cell_names, embed_names = used_modalities(genotype)
        self.embeddings = InputEmbeddings(cfg, embed_names)
        self.cells = nn.ModuleDict({
            m: ModalityCell(m, cfg.modality(m).kind == "sequential",
                            [build_op(cfg, m, op) for op in genotype.cells[m]], cfg.pooling, cfg.d_e)
            for m in cell_names})
        nodes = []
        for c, gene in enumerate(genotype.nodes):
            available = node_input_names(cfg.modality_names, c)
            nodes.append(DerivedFusionNode([available.index(i) for i in gene.inputs], gene.op, cfg.d_e))
        self.fusion = nn.ModuleList(nodes)
        self.head = PredictionHead(cfg.n_nodes, cfg.d_e, cfg.task.n_outputs)

    def forward(self, batch: MultimodalBatch, validate: bool = True) -> Tensor:
        """Logits [B, n_outputs] for a batch with its presence mask [B, M].

        Raises:
            ValueError: The batch does not fit the config.
        """
        if validate:
            batch.validate(self.config)
        ctx = self.embeddings(batch)
        presence = batch.presence
        b = presence.shape[0]
        ref = self.head.out.weight
        z = [self.cells[m](ctx) if m in self.cells else ref.new_zeros(b, self.config.d_e)
             for m in self.config.modality_names]
        nodes: list[Tensor] = []
        for c, node in enumerate(self.fusion):
            valid = torch.cat([presence, presence.new_ones(b, c)], dim=1)
            nodes.append(node(z + nodes, valid))
        return self.head(nodes)


class DerivedEnsemble(nn.Module):
    """Several trainings of one genotype; predicts their mean score (probability), returned as logits.

    Args:
        members: Derived models of the same genotype.

    Raises:
        ValueError: No members, or members of different genotypes.
    """

    def __init__(self, members: list[DerivedModel]) -> None:
        super().__init__()
        if not members or any(m.genotype != members[0].genotype for m in members):
            raise ValueError("a derived ensemble needs members of one genotype")
        self.genotype, self.config = members[0].genotype, members[0].config
        self.members = nn.ModuleList(members)

    def forward(self, batch: MultimodalBatch, validate: bool = True) -> Tensor:
        """Logits whose ``predict_scores`` are the members' mean scores (sigmoid or softmax, as the task's)."""
        if validate:
            batch.validate(self.config)
        task = self.config.task
        mean = torch.stack([predict_scores(m(batch, validate=False), task) for m in self.members]).mean(0)
        mean = mean.clamp(1e-7, 1 - 1e-7)
        if task.kind == "multilabel" and task.multilabel_loss == "softmax":
            return mean.log()  # softmax(log p) == p: the scores sum to 1
        return mean.log() - torch.log1p(-mean)


def save_derived(model: DerivedModel | DerivedEnsemble, directory: str | Path, overwrite: bool = False) -> Path:
    """Write ``genotype.json`` and ``weights.safetensors`` atomically into ``directory``.

    Returns:
        The directory.
    """
    directory = Path(directory)
    n = len(model.members) if isinstance(model, DerivedEnsemble) else 1
    with atomic_dir(directory, overwrite=overwrite) as tmp:
        model.genotype.save(tmp / GENOTYPE_FILE)
        tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
        save_file(tensors, str(tmp / WEIGHTS_FILE),
                  metadata={"genotype_digest": model.genotype.digest(), "members": str(n)})
    return directory


def load_derived(directory: str | Path) -> DerivedModel | DerivedEnsemble:
    """Rebuild a derived model (or ensemble) from its directory (strict: every weight must be there and fit).

    Raises:
        ValueError: Invalid genotype, or weights that do not match it.
    """
    directory = Path(directory)
    genotype = Genotype.load(directory / GENOTYPE_FILE)
    path = directory / WEIGHTS_FILE
    with safe_open(str(path), framework="pt") as fh:
        members = (fh.metadata() or {}).get("members", "1")
    if not members.isdigit() or int(members) < 1:
        raise ValueError(f"{path}: metadata 'members' must be a positive integer, got {members!r}")
    n = int(members)
    model: DerivedModel | DerivedEnsemble = (DerivedModel(genotype) if n == 1 else
                                             DerivedEnsemble([DerivedModel(genotype) for _ in range(n)]))
    try:
        model.load_state_dict(load_file(str(path)), strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{path}: weights do not match the genotype: {exc}") from exc
    model.eval()
    return model
