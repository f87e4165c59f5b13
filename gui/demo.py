"""The demo project: synthetic machined parts, the built-in model, and a folder played as a camera.

Nothing here needs a camera, a GPU or the internet. The built-in model is small
and was never taught on photos: the demo shows the workflow, its accuracy says
little about real use.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2

from vpt_engine.synthetic import DEFECTS, generate_parts, write_task_folders

from .model_catalogue import default_backbone
from .project import PROJECT_FILE, Project, ProjectError

DEMO_TASK = "surface"
CAMERA_FOLDER = "demo-camera"


def default_demo_folder() -> Path:
    return Path(os.environ.get("VPT_DEMO_DIR") or Path.home() / "vpt-demo-project")


def prepare_demo(folder: str | os.PathLike, per_class: int = 10, camera_frames: int = 24,
                 seed: int = 0) -> tuple[Project, Path]:
    """Open the demo project in ``folder``, making it first if needed; returns it and the camera folder."""
    folder = Path(folder)
    camera = folder / CAMERA_FOLDER
    if (folder / PROJECT_FILE).is_file():
        project = Project.open(folder)
    else:
        if folder.exists() and any(folder.iterdir()):
            raise ProjectError(f"{folder} is not empty and holds no project; choose another folder for the demo")
        samples = generate_parts(per_class * len(DEFECTS), seed=seed)
        write_task_folders(samples, folder / "images", DEMO_TASK, prefix="part")
        project = Project.create(folder, "Demo: machined parts", default_backbone(), classes=DEFECTS)
    if not camera.is_dir() or not any(camera.iterdir()):
        write_camera_frames(camera, camera_frames, seed + 1)
    return project, camera


def write_camera_frames(folder: Path, count: int, seed: int) -> Path:
    """New parts (not in the project) at 640x480, for the folder camera to play."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, sample in enumerate(generate_parts(count, seed=seed)):
        cv2.imwrite(str(folder / f"frame_{index:04d}_{sample.defect}.png"), sample.image)
    return folder
