"""The one optimisation loop: AdamW over parameter groups for a planned number of steps.

Prompt tuning (``training``) and full fine-tuning (the bench's baseline) both
run it. It yields one :class:`StepReport` per step and returns True when every
step ran, False when ``cancel`` was set; it writes nothing.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Callable, Generator, Sequence

import torch
from torch import nn

Batch = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class Schedule:
    """Learning-rate factor per step: optional linear warm-up, then constant or cosine down to ``min_ratio``."""

    steps: int
    kind: str = "constant"
    warmup_fraction: float = 0.0
    min_ratio: float = 0.01

    def factor(self, step: int) -> float:
        warmup = int(self.steps * self.warmup_fraction)
        if step < warmup:
            return (step + 1) / warmup
        if self.kind == "constant":
            return 1.0
        progress = min(1.0, (step - warmup) / max(1, self.steps - warmup))
        return self.min_ratio + (1 - self.min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


@dataclass(frozen=True)
class StepReport:
    step: int            # 1-based
    loss: float
    correct: int
    seen: int
    learning_rate: float


def optimise(model: nn.Module, groups: Sequence[dict], draw: Callable[[int], Batch], schedule: Schedule,
             loss_fn: nn.Module, device: torch.device, amp_dtype: torch.dtype | None = None,
             cancel: threading.Event | None = None) -> Generator[StepReport, None, bool]:
    """Run ``schedule.steps`` AdamW steps on ``draw(step)`` batches; see the module docstring."""
    optimizer = torch.optim.AdamW([group for group in groups if group["params"]])
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule.factor)
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype is torch.float16)
    model.train()
    for step in range(schedule.steps):
        if cancel is not None and cancel.is_set():
            return False
        images, labels = draw(step)
        images, labels = images.to(device), labels.to(device)
        with torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
            logits = model(images)
            loss = loss_fn(logits.float(), labels)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        rate = float(optimizer.param_groups[0]["lr"])
        scheduler.step()
        yield StepReport(step + 1, float(loss.detach()), int((logits.argmax(1) == labels).sum()), len(labels), rate)
    return True
