"""Baselines through the same trainer and forward signature (ts, dense, presence).

LSTM-only, 1-D temporal CNN over hours, time-series transformer, image-only (the X-ray CNN branch), early-fusion
MLP, and MAG-style gated fusion (Rahman et al., 2020).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from model.fusion.config import ModelConfig
from model.fusion.model import RobustFusion, TimeSeriesEncoder, check_inputs, dense_encoder


class LSTMOnly(nn.Module):
    """The time-series branch alone: LSTM → linear."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.ts = TimeSeriesEncoder(cfg.n_features, cfg.hidden, cfg.lstm_layers, cfg.ts_dropout)
        self.head = nn.Linear(cfg.hidden, cfg.n_outputs)

    def forward(self, ts: torch.Tensor, dense: Mapping[str, torch.Tensor], presence: torch.Tensor) -> torch.Tensor:
        """Logits [B, n_outputs] from ts [B, T, F], dense inputs and presence [B, M] (see RobustFusion)."""
        check_inputs(self.cfg, ts, dense, presence)
        return self.head(self.ts(ts))


class TSCNN(nn.Module):
    """1-D temporal CNN over hours: 3 dilated conv blocks (kernel 3) → global max and mean pool → linear.

    Dilations 1, 2, 4 give a 15-hour receptive field per output step; the pooling sees the whole window.
    """

    def __init__(self, cfg: ModelConfig, kernel: int = 3, dilations: tuple[int, ...] = (1, 2, 4)) -> None:
        super().__init__()
        self.cfg = cfg
        layers: list[nn.Module] = []
        width = cfg.n_features
        for d in dilations:
            layers += [nn.Conv1d(width, cfg.hidden, kernel, padding=d * (kernel - 1) // 2, dilation=d),
                       nn.BatchNorm1d(cfg.hidden), nn.ReLU()]
            width = cfg.hidden
        self.conv = nn.Sequential(*layers)
        self.drop = nn.Dropout(cfg.ts_dropout)
        self.head = nn.Linear(2 * cfg.hidden, cfg.n_outputs)

    def forward(self, ts: torch.Tensor, dense: Mapping[str, torch.Tensor], presence: torch.Tensor) -> torch.Tensor:
        """Logits [B, n_outputs] from ts [B, T, F], dense inputs and presence [B, M] (see RobustFusion)."""
        check_inputs(self.cfg, ts, dense, presence)
        h = self.conv(ts.transpose(1, 2))  # [B, hidden, T]
        return self.head(self.drop(torch.cat([h.amax(-1), h.mean(-1)], dim=1)))


class TSTransformer(nn.Module):
    """Transformer over hours (learned positional embedding: order matters here, unlike modality tokens)."""

    def __init__(self, cfg: ModelConfig, max_hours: int = 512) -> None:
        super().__init__()
        self.cfg = cfg
        self.inp = nn.Linear(cfg.n_features, cfg.d_model)
        self.pos = nn.Parameter(torch.zeros(max_hours, cfg.d_model))
        nn.init.normal_(self.pos, std=0.02)
        layer = nn.TransformerEncoderLayer(cfg.d_model, cfg.n_heads, cfg.ff, cfg.dropout, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, cfg.n_layers, enable_nested_tensor=False)
        self.head = nn.Linear(cfg.d_model, cfg.n_outputs)

    def forward(self, ts: torch.Tensor, dense: Mapping[str, torch.Tensor], presence: torch.Tensor) -> torch.Tensor:
        """Logits [B, n_outputs] from ts [B, T, F], dense inputs and presence [B, M] (see RobustFusion)."""
        check_inputs(self.cfg, ts, dense, presence)
        h = self.enc(self.inp(ts) + self.pos[: ts.shape[1]])
        return self.head(h.mean(1))


class ImageOnly(nn.Module):
    """The first dense modality alone (the CNN baseline for 'cxr'); absent samples get a learned vector."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        if not cfg.dense:
            raise ValueError("image_only needs a dense modality")
        self.cfg = cfg
        self.name, dim = cfg.dense[0]
        self.enc = dense_encoder(cfg, self.name, dim)
        # Random, not zero: a zero vector behind the head's ReLU gets no gradient, so absent samples would stay
        # pinned to the output bias (measured: p ≈ 0.5 for every sample without an X-ray, AUROC below chance).
        self.missing = nn.Parameter(torch.randn(cfg.d_model))
        self.head = nn.Sequential(nn.ReLU(), nn.Dropout(cfg.dropout), nn.Linear(cfg.d_model, cfg.n_outputs))

    def forward(self, ts: torch.Tensor, dense: Mapping[str, torch.Tensor], presence: torch.Tensor) -> torch.Tensor:
        """Logits [B, n_outputs] from ts [B, T, F], dense inputs and presence [B, M] (see RobustFusion)."""
        present = check_inputs(self.cfg, ts, dense, presence)[:, 1]
        x = dense[self.name]
        x = torch.where(present.view(-1, *([1] * (x.ndim - 1))), x, torch.zeros((), dtype=x.dtype))
        return self.head(torch.where(present[:, None], self.enc(x), self.missing))


class EarlyMLP(nn.Module):
    """Early fusion: [last hour, mean over hours, each dense input (zeros if absent), presence flags] → MLP."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        width = 2 * cfg.n_features + sum(d for _, d in cfg.dense) + len(cfg.modalities)
        self.mlp = nn.Sequential(nn.Linear(width, cfg.d_model), nn.ReLU(), nn.Dropout(cfg.ts_dropout),
                                 nn.Linear(cfg.d_model, cfg.n_outputs))

    def forward(self, ts: torch.Tensor, dense: Mapping[str, torch.Tensor], presence: torch.Tensor) -> torch.Tensor:
        """Logits [B, n_outputs] from ts [B, T, F], dense inputs and presence [B, M] (see RobustFusion)."""
        present = check_inputs(self.cfg, ts, dense, presence)
        parts = [ts[:, -1], ts.mean(1)]
        for j, (name, _) in enumerate(self.cfg.dense, start=1):
            parts.append(torch.where(present[:, j : j + 1], dense[name], torch.zeros(())))
        return self.mlp(torch.cat([*parts, present.float()], dim=1))


class MAG(nn.Module):
    """LSTM state shifted by a gated displacement from the dense modalities (Multimodal Adaptation Gate).

    h' = LayerNorm(h + α·H), H = Σ_m g_m ⊙ W_m e_m, g_m = ReLU(W_gm [h; e_m]), α = min(β‖h‖/‖H‖, 1);
    absent modalities contribute nothing.
    """

    def __init__(self, cfg: ModelConfig, beta: float = 0.5) -> None:
        super().__init__()
        self.cfg, self.beta = cfg, beta
        self.ts = TimeSeriesEncoder(cfg.n_features, cfg.hidden, cfg.lstm_layers, cfg.ts_dropout)
        self.shift = nn.ModuleDict({n: nn.Linear(d, cfg.hidden) for n, d in cfg.dense})
        self.gate = nn.ModuleDict({n: nn.Linear(cfg.hidden + d, cfg.hidden) for n, d in cfg.dense})
        self.norm = nn.LayerNorm(cfg.hidden)
        self.head = nn.Linear(cfg.hidden, cfg.n_outputs)

    def forward(self, ts: torch.Tensor, dense: Mapping[str, torch.Tensor], presence: torch.Tensor) -> torch.Tensor:
        """Logits [B, n_outputs] from ts [B, T, F], dense inputs and presence [B, M] (see RobustFusion)."""
        present = check_inputs(self.cfg, ts, dense, presence)
        h = self.ts(ts)
        disp = torch.zeros_like(h)
        for j, (name, _) in enumerate(self.cfg.dense, start=1):
            e = torch.where(present[:, j : j + 1], dense[name], torch.zeros(()))
            g = torch.relu(self.gate[name](torch.cat([h, e], 1)))
            disp = disp + present[:, j : j + 1] * g * self.shift[name](e)
        alpha = (self.beta * h.norm(dim=1, keepdim=True) / disp.norm(dim=1, keepdim=True).clamp(min=1e-6)).clamp(max=1)
        return self.head(self.norm(h + alpha * disp))


MODELS: dict[str, type[nn.Module]] = {"fusion": RobustFusion, "lstm": LSTMOnly, "ts_cnn": TSCNN,
                                      "ts_transformer": TSTransformer, "image_only": ImageOnly,
                                      "early_mlp": EarlyMLP, "mag": MAG}


def build_model(cfg: ModelConfig) -> nn.Module:
    """The model named by `cfg.kind` (an allowlist: unknown kinds raise ValueError)."""
    if cfg.kind not in MODELS:
        raise ValueError(f"kind={cfg.kind!r}: expected one of {sorted(MODELS)}")
    return MODELS[cfg.kind](cfg)
