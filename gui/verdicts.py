"""Which results are good parts and which are defects, per task (Qt-free).

Live inspection must read at a glance from a distance: a good part in green, any
defect in a warning style, a result the task is not sure about in its own style.
Which classes count as good is a per-task setting stored in the project
(``settings["good_classes"][task]``). Until the operator sets it, classes named
like "ok" or "good" are good and the rest defects; a task with no such class
sorts kinds of parts, and its results are shown in a neutral style.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

GOOD, DEFECT, SORTED, UNSURE = "good", "defect", "sorted", "unsure"
SETTING = "good_classes"
# Words that mean "no defect" in class names (English and Japanese; "free" as in magnetic-tile's MT_Free).
GOOD_WORDS = {"ok", "good", "pass", "passed", "normal", "accept", "accepted", "free", "nodefect", "良品", "合格",
              "正常"}


@dataclass(frozen=True)
class TaskRoles:
    sorting: bool                    # True: the task sorts kinds of parts; no class is a defect
    good: frozenset[str]


def looks_good(name: str) -> bool:
    words = {word.casefold() for word in re.split(r"[\W_]+", name) if word}
    return bool(words & GOOD_WORDS) or name.strip().casefold() in GOOD_WORDS


def default_roles(classes: Iterable[str]) -> TaskRoles:
    good = frozenset(name for name in classes if looks_good(name))
    return TaskRoles(sorting=not good, good=good)


def roles_for(settings: dict[str, Any], task: str, classes: list[str]) -> TaskRoles:
    """The stored choice for ``task`` (read defensively: project.json may be edited by hand), else the default."""
    stored = (settings.get(SETTING) or {}).get(task) if isinstance(settings.get(SETTING), dict) else None
    if not isinstance(stored, dict):
        return default_roles(classes)
    good = stored.get("good") if isinstance(stored.get("good"), list) else []
    return TaskRoles(sorting=bool(stored.get("sorting")), good=frozenset(n for n in good if n in classes))


def roles_setting(roles: TaskRoles) -> dict[str, Any]:
    return {"sorting": roles.sorting, "good": sorted(roles.good)}


def verdict_kind(label: str, uncertain: bool, roles: TaskRoles) -> str:
    if uncertain:
        return UNSURE
    if roles.sorting:
        return SORTED
    return GOOD if label in roles.good else DEFECT
