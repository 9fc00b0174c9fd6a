"""From a supernet to a genotype and a derived model that carries over the supernet's trained weights."""

from __future__ import annotations

import torch

from model.derived import DerivedModel
from model.search.fusion import SELECTOR_OPS
from model.search.genotype import FusionNodeGene, Genotype
from model.search.supernet import Supernet


def genotype_of(net: Supernet, method: str) -> Genotype:
    """The genotype of a fully discretised supernet.

    Raises:
        ValueError: Some edge still has more than one op.
    """
    cells = {m: tuple(layer.chosen() for layer in net.cells[m].layers) for m in net.config.modality_names}
    nodes = []
    for node in net.fusion:
        kept = tuple(name for name, sel in zip(node.input_names, node.selectors) if sel.chosen() == SELECTOR_OPS[0])
        nodes.append(FusionNodeGene(kept, node.fusion.chosen()))
    return Genotype(net.config, cells, tuple(nodes), method)


def _source_key(net: Supernet, genotype: Genotype, key: str) -> str:
    """Supernet state-dict key of a derived-model key (chosen op index inserted)."""
    parts = key.split(".")
    if parts[0] == "cells" and parts[2] == "layers":
        m, k = parts[1], int(parts[3])
        idx = net.cells[m].layers[k].op_names.index(genotype.cells[m][k])
        return ".".join(parts[:4] + ["ops", str(idx)] + parts[4:])
    if parts[0] == "fusion":
        c = int(parts[1])
        idx = net.fusion[c].fusion.op_names.index(genotype.nodes[c].op)
        return ".".join(parts[:2] + ["fusion", "ops", str(idx)] + parts[3:])
    return key


def derive_model(net: Supernet, genotype: Genotype) -> DerivedModel:
    """Build the derived model and copy the supernet's weights of the chosen ops into it.

    When the supernet has been pruned to exactly ``genotype``, the two compute the same function.
    """
    model = DerivedModel(genotype)
    source = net.state_dict()
    state = {k: source[_source_key(net, genotype, k)].detach().clone() for k in model.state_dict()}
    model.load_state_dict(state, strict=True)
    return model.to(next(net.parameters()).dtype)


def discretise_to(net: Supernet, genotype: Genotype) -> None:
    """Set the supernet's alive masks to exactly the genotype's choices (for argmax / DARTS-PT comparisons)."""
    with torch.no_grad():
        for m in net.config.modality_names:
            for layer, op in zip(net.cells[m].layers, genotype.cells[m]):
                layer.alive.zero_()
                layer.alive[layer.op_names.index(op)] = True
        for node, gene in zip(net.fusion, genotype.nodes):
            for name, sel in zip(node.input_names, node.selectors):
                sel.alive.zero_()
                sel.alive[0 if name in gene.inputs else 1] = True
            node.fusion.alive.zero_()
            node.fusion.alive[node.fusion.op_names.index(gene.op)] = True
