"""What an import of files and folders will do, worked out before anything is copied (Qt-free).

A folder that holds folders of pictures is usually one folder per class (the
layout other tools export). Those sub-folders are offered as classes, matched to
existing classes by name (ignoring case); pictures lying directly in the chosen
folder go to the selected class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from vpt_core.errors import VptError

from .project_files import expand_image_paths


@dataclass
class FolderGroup:
    folder: Path
    paths: list[Path]
    target: str = ""          # the class its pictures go to
    new_class: bool = False   # the class does not exist yet and will be made
    problem: str = ""         # why its name cannot be a class (then it is left out)


@dataclass
class ImportPlan:
    loose: list[Path] = field(default_factory=list)      # files given, or lying directly in a chosen folder
    groups: list[FolderGroup] = field(default_factory=list)

    @property
    def has_class_folders(self) -> bool:
        return bool(self.groups)

    def usable_groups(self) -> list[FolderGroup]:
        return [group for group in self.groups if not group.problem]


def plan_import(items: Iterable[str | Path], class_names: list[str],
                check_name: Callable[[str], str]) -> ImportPlan:
    """``check_name`` cleans a new class name or raises VptError (Project.check_class_name)."""
    plan = ImportPlan()
    by_folded = {name.casefold(): name for name in class_names}
    planned: dict[str, FolderGroup] = {}
    for item in map(Path, items):
        if not item.is_dir():
            if item.exists():
                plan.loose.append(item)
            continue
        plan.loose += sorted(p for p in item.iterdir() if p.is_file() and not p.name.startswith("."))
        for folder in sorted(p for p in item.iterdir() if p.is_dir() and not p.name.startswith(".")):
            paths = expand_image_paths([folder])
            if not paths:
                continue
            group = FolderGroup(folder, paths)
            existing = by_folded.get(folder.name.casefold())
            if existing:
                group.target = existing
            elif folder.name.casefold() in planned:    # two chosen folders with the same class folder
                group.target = planned[folder.name.casefold()].target
            else:
                try:
                    group.target, group.new_class = check_name(folder.name), True
                except VptError as error:
                    group.problem = str(error)
            if group.target:
                planned.setdefault(group.target.casefold(), group)
            plan.groups.append(group)
    return plan
