"""The AutoFM supernet: embeddings, mixed modality cells, the searchable fusion DAG and the prediction head."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from model.search.batch import MultimodalBatch
from model.search.cells import ModalityCell
from model.search.embedding import InputEmbeddings
from model.search.fusion import FUSION_OPS, SELECTOR_OPS, PredictionHead, build_fusion_op, node_input_names
from model.search.mixed import MixedEdge, MixedLayer
from model.search.ops import build_op, candidate_ops
from model.search.spec import SearchSpaceConfig


class MixedFusion(MixedEdge):
    """The searchable fusion module of one node: softmax(gamma)-weighted fusion ops."""

    def __init__(self, edge_id: str, d_e: int) -> None:
        super().__init__(edge_id, list(FUSION_OPS))
        self.ops = nn.ModuleList([build_fusion_op(name, d_e) for name in FUSION_OPS])

    def forward(self, u: Tensor, valid: Tensor) -> Tensor:
        """Weighted sum of the alive fusion ops."""
        w = self.weights()
        idx = self.alive_indices()
        if len(idx) == 1:
            return self.ops[idx[0]](u, valid)
        return sum(w[i].to(u.dtype) * self.ops[i](u, valid) for i in idx)


class SearchFusionNode(nn.Module):
    """Fusion node c: a selector {identity, zero} per input edge (beta), then the mixed fusion op (gamma)."""

    def __init__(self, config: SearchSpaceConfig, node: int) -> None:
        super().__init__()
        self.input_names = node_input_names(config.modality_names, node)
        self.selectors = nn.ModuleList([MixedEdge(f"selector/{node + 1}/{name}", list(SELECTOR_OPS))
                                        for name in self.input_names])
        self.fusion = MixedFusion(f"fusion/{node + 1}", config.d_e)

    def forward(self, inputs: list[Tensor], valid: Tensor) -> Tensor:
        """Fuse the node's inputs ([B, d_e] each) given their validity [B, n]."""
        u = torch.stack(inputs, dim=1)
        w_identity = torch.stack([s.weights()[0] for s in self.selectors])
        identity_alive = torch.stack([s.alive[0] for s in self.selectors])
        u = u * w_identity.to(u.dtype)[None, :, None]
        # An edge pruned to `zero` is not an input at all (as in the derived model), also for attentive sum.
        return self.fusion(u, valid & identity_alive[None, :])


class Supernet(nn.Module):
    """AutoFM supernet over a search-space config.

    Args:
        config: Modalities, task and sizes.
    """

    def __init__(self, config: SearchSpaceConfig) -> None:
        super().__init__()
        self.config = config
        self.embeddings = InputEmbeddings(config)
        cells = {}
        for m in config.modalities:
            ops = candidate_ops(config, m.name)
            layers = [MixedLayer(f"cell/{m.name}/{k}", ops, [build_op(config, m.name, o) for o in ops])
                      for k in range(config.n_layers)]
            cells[m.name] = ModalityCell(m.name, m.kind == "sequential", layers, config.pooling, config.d_e)
        self.cells = nn.ModuleDict(cells)
        self.fusion = nn.ModuleList([SearchFusionNode(config, c) for c in range(config.n_nodes)])
        self.head = PredictionHead(config.n_nodes, config.d_e, config.task.n_outputs)

    def forward(self, batch: MultimodalBatch, validate: bool = True) -> Tensor:
        """Logits [B, n_outputs].

        Args:
            batch: The batch, with its presence mask [B, M].
            validate: Check the batch's shapes (raises ValueError).
        """
        if validate:
            batch.validate(self.config)
        ctx = self.embeddings(batch)
        z = [self.cells[name](ctx) for name in self.config.modality_names]
        presence = batch.presence
        nodes: list[Tensor] = []
        for c, node in enumerate(self.fusion):
            valid = torch.cat([presence, presence.new_ones(presence.shape[0], c)], dim=1)
            nodes.append(node(z + nodes, valid))
        return self.head(nodes)

    def edges(self) -> dict[str, MixedEdge]:
        """All mixed edges by id, in a stable order (cells, then per node selectors and fusion)."""
        out: dict[str, MixedEdge] = {}
        for name in self.config.modality_names:
            for layer in self.cells[name].layers:
                out[layer.edge_id] = layer
        for node in self.fusion:
            for sel in node.selectors:
                out[sel.edge_id] = sel
            out[node.fusion.edge_id] = node.fusion
        return out

    def arch_parameters(self) -> list[nn.Parameter]:
        """alpha (cells), beta (selectors) and gamma (fusion), in ``edges()`` order."""
        return [e.alpha for e in self.edges().values()]

    def weight_parameters(self) -> list[nn.Parameter]:
        """All other learnable parameters W."""
        arch = {id(p) for p in self.arch_parameters()}
        return [p for p in self.parameters() if id(p) not in arch]

    def is_discrete(self) -> bool:
        """Whether every edge has exactly one op left."""
        return all(len(e.alive_indices()) == 1 for e in self.edges().values())
