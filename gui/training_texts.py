"""What training reports, in the operator's language: phases, durations and notices.

Notices are translated by their key (``Notice.key``, with ``values``). Notices
from an engine that does not set keys yet are recognised by their English
beginning; anything unknown is shown as the engine wrote it.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QCoreApplication

from vpt_engine import events as ev

from .run_progress import LOADING_BACKBONE, SELECT

# Older engine messages -> (key, pattern for the values).
_LEGACY_NOTICES = (
    ("skipped_file", re.compile(r"skipped unreadable file: (?P<reason>.*)")),
    ("no_validation_split", re.compile(r"no validation split")),
    ("single_image_class", re.compile(r"only one image in some classes")),
    ("early_stopping", re.compile(r"early stopping after epoch (?P<epoch>\d+)")),
    ("auto_choice", re.compile(r"automatic choice: (?P<reason>.*)")),
)


def notice_key_and_values(notice: ev.Notice) -> tuple[str, dict]:
    if notice.key:
        return notice.key, dict(notice.values)
    for key, pattern in _LEGACY_NOTICES:
        match = pattern.match(notice.message)
        if match:
            return key, match.groupdict()
    return "", {}


def notice_text(notice: ev.Notice) -> str:
    key, values = notice_key_and_values(notice)
    texts = {
        "skipped_file": QCoreApplication.translate("TrainingTexts", "A picture was left out because it cannot be "
                                                                    "read: {path}"),
        "no_validation_split": QCoreApplication.translate(
            "TrainingTexts", "Too few pictures to keep some aside for checking: it trains on all of them and "
                             "cannot say how well it does on new ones."),
        "single_image_class": QCoreApplication.translate(
            "TrainingTexts", "Some classes have only one picture: training works, but its accuracy cannot be "
                             "checked until you add more."),
        "early_stopping": QCoreApplication.translate(
            "TrainingTexts", "Stopped early after round {epoch}: it was no longer getting better."),
        "auto_choice": QCoreApplication.translate(
            "TrainingTexts", "The app tried several settings on your pictures and kept: {chosen}."),
    }
    if key not in texts:
        return notice.message
    path = values.get("path") or values.get("reason") or ""
    epoch = values.get("epoch", values.get("step", ""))
    chosen = values.get("chosen") or QCoreApplication.translate("TrainingTexts", "the usual settings")
    return texts[key].format(path=path, epoch=epoch, chosen=chosen)


def phase_text(phase: str) -> str:
    texts = {LOADING_BACKBONE: QCoreApplication.translate("TrainingTexts", "Loading the model…"),
             ev.Phase.LOADING: QCoreApplication.translate("TrainingTexts", "Reading pictures…"),
             ev.Phase.PROTOTYPES: QCoreApplication.translate("TrainingTexts", "Preparing from your pictures…"),
             ev.Phase.TRAIN: QCoreApplication.translate("TrainingTexts", "Training…"),
             ev.Phase.EVAL: QCoreApplication.translate("TrainingTexts", "Checking…"),
             SELECT: QCoreApplication.translate("TrainingTexts", "Trying settings on your pictures…"),
             # RunProgress stages
             "choose": QCoreApplication.translate("TrainingTexts", "Trying settings on your pictures…"),
             "prepare": QCoreApplication.translate("TrainingTexts", "Preparing from your pictures…"),
             "train": QCoreApplication.translate("TrainingTexts", "Training…"),
             "check": QCoreApplication.translate("TrainingTexts", "Checking…")}
    return texts.get(phase, QCoreApplication.translate("TrainingTexts", "Working…"))


def duration_text(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 60:
        return QCoreApplication.translate("TrainingTexts", "{minutes} min {seconds} s").format(
            minutes=seconds // 60, seconds=seconds % 60)
    return QCoreApplication.translate("TrainingTexts", "{seconds} s").format(seconds=seconds)


def time_line(elapsed: float, eta: float | None) -> str:
    """"1 min 5 s so far · about 2 min left (whole run)"."""
    so_far = QCoreApplication.translate("TrainingTexts", "{time} so far").format(time=duration_text(elapsed))
    if eta is None:
        return so_far
    if eta >= 90:
        left = QCoreApplication.translate("TrainingTexts", "about {minutes} min left").format(
            minutes=round(eta / 60))
    else:
        left = QCoreApplication.translate("TrainingTexts", "about {seconds} s left").format(
            seconds=max(1, int(round(eta))))
    return f"{so_far} · {left}"
