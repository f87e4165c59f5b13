"""Read backbone weights as their authors publish them.

Handles safetensors and torch pickles (``.pth``, ``.pt``, ``.bin``, ``.ckpt``),
state dicts nested under ``model`` / ``state_dict`` / ``teacher`` (MAE, MoCo v3,
DINO), key prefixes such as ``module.`` or ``module.base_encoder.``, fp16/bf16
tensors, and classifier heads, which are dropped. What was ignored is reported.
"""

from __future__ import annotations

import argparse
import os
import pickle
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch

from vpt_core.errors import BackboneError

WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin", ".ckpt")
_NESTING_KEYS = ("state_dict", "model", "model_state_dict", "module", "teacher", "ema", "model_ema")
_HEAD_PREFIXES = ("head.", "head_dist.", "fc.", "classifier.")


@dataclass
class LoadReport:
    source: str
    prefix_stripped: str = ""
    nested_under: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    converted_dtypes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"weights: {self.source}"]
        if self.nested_under:
            out.append(f"  state dict found under {' -> '.join(self.nested_under)}")
        if self.prefix_stripped:
            out.append(f"  key prefix {self.prefix_stripped!r} stripped")
        if self.converted_dtypes:
            out.append(f"  converted {', '.join(sorted(set(self.converted_dtypes)))} tensors to float32")
        if self.ignored:
            shown = ", ".join(self.ignored[:6]) + (" ..." if len(self.ignored) > 6 else "")
            out.append(f"  ignored {len(self.ignored)} tensors not used by the backbone: {shown}")
        return out


def read_weights_file(path: str | os.PathLike) -> Any:
    path = Path(path)
    if not path.is_file():
        raise BackboneError(f"weights file not found: {path}")
    if path.suffix.lower() not in WEIGHT_SUFFIXES:
        raise BackboneError(f"{path}: unsupported weights format; use one of {', '.join(WEIGHT_SUFFIXES)}")
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path), device="cpu")
        # weights_only refuses arbitrary code in pickles; training scripts often save
        # their argparse namespace beside the weights, which is harmless data.
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, OSError, ValueError, EOFError) as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise BackboneError(f"{path}: cannot read weights ({message})") from error
    except Exception as error:  # safetensors raises its own error type for damaged headers
        raise BackboneError(f"{path}: cannot read weights ({type(error).__name__}: {error})") from error


def extract_state_dict(loaded: Any, report: LoadReport) -> dict[str, torch.Tensor]:
    """Descend into known wrapper keys until a mapping of tensors is found."""
    current = loaded
    for _ in range(4):
        if not isinstance(current, Mapping):
            break
        if _mostly_tensors(current):
            return {k: v for k, v in current.items() if isinstance(v, torch.Tensor)}
        key = next((k for k in _NESTING_KEYS if isinstance(current.get(k), Mapping)), None)
        if key is None:
            break
        report.nested_under.append(key)
        current = current[key]
    raise BackboneError(f"{report.source}: no state dict of tensors found (top-level keys: {_keys(loaded)})")


def align_keys(state_dict: Mapping[str, torch.Tensor], model_keys: set[str],
               report: LoadReport) -> dict[str, torch.Tensor]:
    """Strip the key prefix that maps the most tensors onto the model.

    Ties go to the prefix seen first in the file, so MoCo v3's ``base_encoder``
    wins over its ``momentum_encoder``.
    """
    votes: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for index, key in enumerate(state_dict):
        for model_key in _suffix_matches(key, model_keys):
            prefix = key[: len(key) - len(model_key)]
            votes[prefix] += 1
            first_seen.setdefault(prefix, index)
    if not votes:
        return dict(state_dict)
    best = max(votes, key=lambda p: (votes[p], -first_seen[p]))
    report.prefix_stripped = best
    aligned = {}
    for key, value in state_dict.items():
        if key.startswith(best):
            aligned[key[len(best):]] = value
        else:
            report.ignored.append(key)
    return aligned


def _suffix_matches(key: str, model_keys: set[str]) -> list[str]:
    parts = key.split(".")
    return [s for s in (".".join(parts[i:]) for i in range(len(parts))) if s in model_keys][:1]


def fit_to_model(state_dict: dict[str, torch.Tensor], model: torch.nn.Module, report: LoadReport) -> None:
    """Load into ``model`` or raise BackboneError naming what does not fit."""
    expected = model.state_dict()
    usable = {}
    for key, value in state_dict.items():
        if key not in expected:
            report.ignored.append(key)
            continue
        if tuple(value.shape) != tuple(expected[key].shape):
            raise BackboneError(
                f"{report.source} does not fit this architecture: {key} has shape {list(value.shape)}, "
                f"the model expects {list(expected[key].shape)}")
        if value.dtype != expected[key].dtype:
            report.converted_dtypes.append(str(value.dtype).replace("torch.", ""))
        usable[key] = value.to(expected[key].dtype)
    missing = [k for k in expected if k not in usable]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise BackboneError(
            f"{report.source} does not fit this architecture: {len(missing)} of {len(expected)} "
            f"tensors missing ({shown})")
    model.load_state_dict(usable, strict=True)


def drop_heads(state_dict: dict[str, torch.Tensor], report: LoadReport) -> dict[str, torch.Tensor]:
    kept = {}
    for key, value in state_dict.items():
        if key.startswith(_HEAD_PREFIXES):
            report.ignored.append(key)
        else:
            kept[key] = value
    return kept


def _mostly_tensors(mapping: Mapping) -> bool:
    values = list(mapping.values())
    return bool(values) and sum(isinstance(v, torch.Tensor) for v in values) >= 0.5 * len(values)


def _keys(obj: Any) -> str:
    if isinstance(obj, Mapping):
        keys = list(obj)[:8]
        return ", ".join(map(str, keys)) + (" ..." if len(obj) > 8 else "")
    return type(obj).__name__
