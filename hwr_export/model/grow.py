"""Start a larger preset from a smaller one's trained weights (``hwr train --init X --grow``).

Every tensor whose name and shape are the same in both networks is copied; the rest (a third
BiLSTM layer, say) keeps its fresh initialisation. The networks must read the same line height
and charset, and the convolutional front end must fit entirely: that is what makes growing
worth more than starting afresh.
"""

from __future__ import annotations

from dataclasses import dataclass

from hwr_export.model.crnn import CRNN
from runtimes.errors import HwrError


@dataclass(frozen=True)
class GrowReport:
    copied: tuple[str, ...]
    fresh: tuple[str, ...]  # in the target, not filled from the source
    dropped: tuple[str, ...]  # in the source, with no place in the target

    def summary(self) -> str:
        fresh = ", ".join(sorted({_layer(n) for n in self.fresh})) or "none"
        return f"copied {len(self.copied)} tensors; fresh: {fresh}; dropped: {len(self.dropped)}"


def _layer(name: str) -> str:
    """``rnn.weight_ih_l2_reverse`` -> ``rnn.l2``; ``head.weight`` -> ``head``."""
    module, _, param = name.partition(".")
    for part in param.split("_"):
        if part.startswith("l") and part[1:].isdigit():
            return f"{module}.{part}"
    return module


def grow_into(target: CRNN, source: CRNN, source_name: str) -> GrowReport:
    """Copy ``source``'s fitting tensors into ``target`` (in place)."""
    have_config, want_config = source.config, target.config
    for field in ("input_height", "charset"):
        if getattr(have_config, field) != getattr(want_config, field):
            raise HwrError(
                f"{source_name}: cannot grow preset {have_config.name!r} into "
                f"{want_config.name!r}: their {field.replace('_', ' ')} differs"
            )
    want = target.state_dict()
    copied: list[str] = []
    dropped: list[str] = []
    for name, tensor in source.state_dict().items():
        if name in want and want[name].shape == tensor.shape:
            want[name] = tensor.clone()
            copied.append(name)
        else:
            dropped.append(name)
    filled = set(copied)
    fresh = tuple(n for n in want if n not in filled)
    misfit = [n for n in fresh if n.startswith("cnn.")]
    if misfit:
        raise HwrError(
            f"{source_name}: cannot grow preset {have_config.name!r} into "
            f"{want_config.name!r}: the convolutional layers differ ({misfit[0]})"
        )
    target.load_state_dict(want)
    return GrowReport(tuple(copied), fresh, tuple(dropped))
