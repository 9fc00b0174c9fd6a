"""The feature-selector diversity penalty (Eq. 3.9).

For node c, ``p_c[i]`` is the selector's probability of keeping modality i (softmax(beta)[identity] on the
modality edges only; edges from earlier nodes are left free, as the paper says). The penalty is minus the sum,
over ordered pairs of different nodes, of the binary cross-entropy of ``p_c1`` against ``p_c2`` summed over the
modality edges. Minimising ``lambda * Penalty`` maximises that cross-entropy, pushing nodes apart.

Differences from the authors' code: no ``detach`` on the target (this is the gradient of Eq. 3.9 itself), the
diagonal c1 == c2 is left out (the paper: "any two different steps"; the diagonal is each node's own entropy and
would only push every selector towards 0.5), and removed (pruned) ops are honoured through ``weights()``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from model.search.supernet import Supernet

_EPS = 1e-6


def selection_probs(net: Supernet) -> Tensor:
    """[C, M]: per node, the probability that its selector keeps each modality edge."""
    n_mod = len(net.config.modality_names)
    return torch.stack([torch.stack([sel.weights()[0] for sel in node.selectors[:n_mod]]) for node in net.fusion])


def diversity_penalty(net: Supernet) -> Tensor:
    """Penalty(beta) of Eq. 3.9 (<= 0; more negative means more diverse selections). 0 for a single node."""
    p = selection_probs(net).clamp(_EPS, 1 - _EPS)
    c = p.shape[0]
    if c < 2:
        return p.sum() * 0.0
    logp, log1mp = torch.log(p), torch.log1p(-p)
    # ce[c1, c2] = -sum_i p[c2, i] log p[c1, i] + (1 - p[c2, i]) log(1 - p[c1, i])
    ce = -(logp @ p.T + log1mp @ (1 - p).T)
    off_diag = ~torch.eye(c, dtype=torch.bool, device=p.device)
    return -ce[off_diag].sum()
