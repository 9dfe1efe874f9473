"""Start a larger preset from a smaller one's trained weights (``hwr train --init X --grow``).

Larger means deeper (more BiLSTM layers), wider (more channels, a wider projection or BiLSTM),
or both. Tensors of the same shape are copied. A wider tensor gets the source's weights in the
places of the source's units, the new units keep their fresh initialisation, and every weight
from a new unit into an old one starts at zero, so the grown network computes exactly what the
source computed (function-preserving widening) while gradients still reach the zeroed weights.
Layers the source lacks (a third BiLSTM layer, say) stay fresh.

The networks must read the same line height and charset, and the convolutional front end must
have the same layers (kernels, padding, pooling), each at least as wide: that is what makes
growing worth more than starting afresh.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from hwr_export.model.crnn import CRNN
from hwr_export.model.presets import CRNNConfig
from runtimes.errors import HwrError

_GATES = 4  # PyTorch stacks an LSTM's input, forget, cell and output gates along dim 0
_LSTM_LAYER = re.compile(r"rnn\.weight_ih_l(\d+)")


@dataclass(frozen=True)
class GrowReport:
    copied: tuple[str, ...]
    widened: tuple[str, ...]  # source weights embedded in a wider target tensor
    fresh: tuple[str, ...]  # in the target, not filled from the source
    dropped: tuple[str, ...]  # in the source, with no place in the target

    def summary(self) -> str:
        widened = ", ".join(sorted({_layer(n) for n in self.widened})) or "none"
        fresh = ", ".join(sorted({_layer(n) for n in self.fresh})) or "none"
        return (
            f"copied {len(self.copied)} tensors; widened: {widened}; fresh: {fresh}; "
            f"dropped: {len(self.dropped)}"
        )


def _layer(name: str) -> str:
    """``rnn.weight_ih_l2_reverse`` -> ``rnn.l2``; ``head.weight`` -> ``head``;
    ``cnn.4.weight`` -> ``cnn.4``."""
    module, _, param = name.partition(".")
    for part in param.split("_"):
        if part.startswith("l") and part[1:].isdigit():
            return f"{module}.{part}"
    index = param.split(".")[0]
    return f"{module}.{index}" if index.isdigit() else module


def grow_into(target: CRNN, source: CRNN, source_name: str) -> GrowReport:
    """Copy or embed ``source``'s weights into ``target`` (in place)."""
    have, want_config = source.config, target.config

    def refuse(why: str) -> HwrError:
        return HwrError(
            f"{source_name}: cannot grow preset {have.name!r} into {want_config.name!r}: {why}"
        )

    for field in ("input_height", "charset"):
        if getattr(have, field) != getattr(want_config, field):
            raise refuse(f"their {field.replace('_', ' ')} differs")
    if not _same_front_end_layout(have, want_config):
        raise refuse("the convolutional layers differ (count, kernels, padding or pooling)")

    want = target.state_dict()
    copied: list[str] = []
    widened: list[str] = []
    dropped: list[str] = []
    for name, tensor in source.state_dict().items():
        if name not in want:
            dropped.append(name)
        elif want[name].shape == tensor.shape:
            want[name] = tensor.clone()
            copied.append(name)
        else:
            if tensor.dim() != want[name].dim() or any(
                old > new for old, new in zip(tensor.shape, want[name].shape, strict=True)
            ):
                raise refuse(
                    f"{name} would shrink from {tuple(tensor.shape)} to {tuple(want[name].shape)}"
                )
            want[name] = _embed(name, tensor, want[name], have, want_config)
            widened.append(name)
    filled = set(copied) | set(widened)
    fresh = tuple(n for n in want if n not in filled)  # never cnn.*: the layout check saw to it
    target.load_state_dict(want)
    return GrowReport(tuple(copied), tuple(widened), fresh, tuple(dropped))


def _same_front_end_layout(a: CRNNConfig, b: CRNNConfig) -> bool:
    """Same convolutions and pooling (channels aside): the frames and feature rows line up."""
    return len(a.blocks) == len(b.blocks) and all(
        (x.kernel, x.padding, x.pool) == (y.kernel, y.padding, y.pool) and x.channels <= y.channels
        for x, y in zip(a.blocks, b.blocks, strict=True)
    )


def _embed(
    name: str, old: torch.Tensor, fresh: torch.Tensor, have: CRNNConfig, want: CRNNConfig
) -> torch.Tensor:
    """``fresh`` with ``old`` written into the old units' places and the old units' weights
    from new inputs zeroed."""
    out_map = _output_map(name, old.shape[0], have, want)
    grown = fresh.clone()
    if old.dim() == 1:
        grown[out_map] = old
        return grown
    in_map = _input_map(name, old.shape[1], have, want)
    rows = torch.zeros_like(grown[out_map])
    rows[:, in_map] = old
    grown[out_map] = rows
    return grown


def _output_map(name: str, size: int, have: CRNNConfig, want: CRNNConfig) -> torch.Tensor:
    """Where each of the source's output units sits in the target (dim 0)."""
    if name.startswith("rnn."):  # gate blocks of lstm_hidden rows each
        return _blocks(_GATES, have.lstm_hidden, want.lstm_hidden)
    return torch.arange(size)


def _input_map(name: str, size: int, have: CRNNConfig, want: CRNNConfig) -> torch.Tensor:
    """Where each of the source's inputs sits in the target (dim 1).

    The projection reads channel-major flattened columns (channel x feature row); the feature
    rows are the same in both networks, so the old channels are the leading block.
    """
    layer = _LSTM_LAYER.match(name)
    if name.startswith("head.") or (layer and int(layer.group(1)) > 0):
        # Reads the previous BiLSTM's [forward, backward] halves.
        return _blocks(2, have.lstm_hidden, want.lstm_hidden)
    return torch.arange(size)


def _blocks(count: int, old: int, new: int) -> torch.Tensor:
    """Indices of the first ``old`` of every ``new``-sized block, ``count`` blocks."""
    return torch.cat([torch.arange(old) + block * new for block in range(count)])
