"""Input embeddings (Eqs. 3.1-3.4): every modality to d_e, sparse inputs at a cost that follows their non-zeros."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from model.search.batch import DenseSequence, ModalityInput, MultimodalBatch, SparseSequence
from model.search.spec import ModalitySpec, SearchSpaceConfig


@dataclass
class Embedded:
    """One modality after embedding: ``x`` [B, T, d_e] or [B, d_e]; ``mask`` [B, T] (sequential) or [B].

    The mask is already combined with the presence mask: an absent sample has ``x == 0`` and an all-False mask.
    """

    x: Tensor
    mask: Tensor


class ModalityEmbedding(nn.Module):
    """``W^T x + b`` for one modality: ``nn.EmbeddingBag`` (sum) for sparse inputs, ``nn.Linear`` for dense ones.

    Args:
        spec: The modality.
        d_e: Output width.
        dropout: Dropout on the embedding.
    """

    def __init__(self, spec: ModalitySpec, d_e: int, dropout: float) -> None:
        super().__init__()
        self.spec = spec
        self.d_e = d_e
        if spec.input_kind == "sparse":
            # Same initialisation as nn.Linear(D, d_e), so dense and sparse paths start alike.
            self.bag = nn.EmbeddingBag(spec.dim, d_e, mode="sum")
            bound = 1.0 / spec.dim**0.5
            nn.init.uniform_(self.bag.weight, -bound, bound)
            self.bias = nn.Parameter(torch.empty(d_e).uniform_(-bound, bound))
        else:
            self.linear = nn.Linear(spec.dim, d_e)
        self.dropout = nn.Dropout(dropout)

    def _sparse(self, s: SparseSequence) -> Tensor:
        out = F.embedding_bag(s.indices, self.bag.weight, s.offsets, mode="sum", per_sample_weights=s.values)
        return out.view(s.batch_size, s.n_steps, self.d_e) + self.bias

    def forward(self, x: ModalityInput | None, present: Tensor, n_steps: int = 1) -> Embedded:
        """Embed one modality and zero it where absent.

        Args:
            x: The modality's input, or ``None`` when absent from the whole batch.
            present: Bool [B], this modality's column of the presence mask.
            n_steps: T used for an all-absent sequential input.

        Returns:
            The embedding and its validity mask.
        """
        b = present.shape[0]
        seq = self.spec.kind == "sequential"
        w = self.bag.weight if self.spec.input_kind == "sparse" else self.linear.weight
        if x is None:
            shape = (b, n_steps, self.d_e) if seq else (b, self.d_e)
            mshape = (b, n_steps) if seq else (b,)
            return Embedded(w.new_zeros(shape), torch.zeros(mshape, dtype=torch.bool, device=present.device))
        if isinstance(x, SparseSequence):
            h = self._sparse(x)
            mask = x.step_mask()
        elif isinstance(x, DenseSequence):
            h, mask = self.linear(x.values), x.step_mask()
        else:
            h, mask = self.linear(x), None
        if not seq:
            h = h.reshape(b, self.d_e)
            mask = present.clone()
        else:
            mask = mask & present[:, None]
        h = self.dropout(h)
        # Zero absent samples and padded steps so nothing downstream can read them.
        h = h * (mask[..., None].to(h.dtype))
        return Embedded(h, mask)


class InputEmbeddings(nn.Module):
    """Modality embeddings keyed by modality name.

    Args:
        config: The search space.
        names: Modalities to embed (default: all); the derived model embeds only those it uses.
    """

    def __init__(self, config: SearchSpaceConfig, names: list[str] | None = None) -> None:
        super().__init__()
        self.config = config
        keep = config.modality_names if names is None else names
        self.embed = nn.ModuleDict({m.name: ModalityEmbedding(m, config.d_e, config.embed_dropout)
                                    for m in config.modalities if m.name in keep})

    def forward(self, batch: MultimodalBatch) -> dict[str, Embedded]:
        """Embed every modality of a validated batch."""
        steps = [v.n_steps if isinstance(v, SparseSequence) else v.values.shape[1]
                 for v in batch.inputs.values() if isinstance(v, (SparseSequence, DenseSequence))]
        default_t = max(steps) if steps else 1
        return {m.name: self.embed[m.name](batch.inputs.get(m.name), batch.presence[:, j], default_t)
                for j, m in enumerate(self.config.modalities) if m.name in self.embed}
