"""Real kills at every file-system step of the commands that change a bundle (issue 14, cases 1 and 2).

``vpt_core.faults`` makes a command SIGKILL itself just before its N-th file-system
step (``VPT_FAULT_KILL_AT=N``); a first run counts the steps (``VPT_FAULT_LOG``).
After each kill the folder at the bundle's path must open with every sha256
checked, serve every task, and be exactly the old bundle or exactly the new one.
Then a later command (``vpt bundle tidy`` after add-task, another add-task
after an export) must finish cleanly and leave nothing of the interrupted
change behind (no unreferenced packs or models, no temporary files, no export
staging folder, ``build_engine.sh`` and ``README.txt`` in line with the manifest).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from export.runtime import Bundle, Station
from export.runtime.bundle_edit import referenced_files
from export.runtime.bundle_texts import build_engine_script, readme_text
from vpt_core.contract import BundleContract
from test_export_support import NUM_PROMPTS, copy_bundle, make_pack, shared_bundle

KILLED = -signal.SIGKILL


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_bundle(tmp_path_factory)


def run_vpt(args, *, kill_at: int = 0, log: Path | None = None, timeout: float = 300):
    env = {**os.environ, "VPT_FAULT_KILL_AT": str(kill_at), "VPT_FAULT_LOG": str(log or "")}
    return subprocess.run([sys.executable, "-m", "vpt_core.cli", *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=timeout)


def count_steps(args, scratch: Path) -> list[str]:
    """The command's file-system steps, one "N<TAB>what<TAB>path" line each (a complete run, nothing killed)."""
    log = scratch / "steps.log"
    done = run_vpt(args, log=log)
    assert done.returncode == 0, done.stderr
    return log.read_text().splitlines()


def bundle_state(root: Path) -> dict:
    """What a bundle serves: backbone sha256 and prompt slots, and each task's classes. Opens and serves it."""
    bundle = Bundle.open(root)   # verifies the sha256 of the backbone and of every pack
    assert not bundle.problems, bundle.problems
    image = np.random.default_rng(0).integers(0, 256, (37, 45, 3), dtype=np.uint8)
    with Station(root, backend="onnxruntime") as station:
        for name in station.task_names:
            station.set_task(name)
            result = station.predict_rgb(image)
            assert np.isfinite(result.probabilities).all() and result.label in station.classes
    return {"backbone": bundle.backbone_sha256, "slots": bundle.contract.prompt_slots,
            "tasks": {name: task.classes for name, task in bundle.tasks.items()}}


def assert_clean(root: Path) -> None:
    """Nothing of an interrupted change is left: every file is referenced, texts match the manifest."""
    manifest = json.loads((root / "manifest.json").read_text())
    keep = referenced_files(manifest)
    packs_and_models = {p.relative_to(root).as_posix() for p in root.rglob("*")
                        if p.suffix in (".vptask", ".onnx")}
    assert packs_and_models == keep
    assert not [p for p in root.rglob("*") if p.name.endswith((".tmp", ".partial"))]
    assert not list(root.parent.glob(f".{root.name}.*.partial"))
    backbone = manifest["backbone"]
    script = build_engine_script(BundleContract.from_dict(manifest["contract"]), backbone["fp32_nodes"],
                                 backbone["file"], onnx_sha256=backbone["sha256"])
    assert (root / "build_engine.sh").read_text() == script
    assert (root / "README.txt").read_text() == readme_text(manifest)


def kill_loop(base: Path, scratch: Path, command, later_command, steps: list[int], old: dict, new: dict) -> list:
    """Kill ``command`` before each of ``steps``; check the bundle after the kill and after ``later_command``."""
    outcomes = []
    for step in steps:
        root = scratch / f"kill{step}" / "bundle"
        copy_bundle(base, root)
        killed = run_vpt(command(root), kill_at=step)
        assert killed.returncode == KILLED, f"step {step} did not kill: {killed.returncode} {killed.stderr}"
        after_kill = bundle_state(root)
        assert after_kill in (old, new), f"killed before step {step}: neither the old nor the new bundle"
        later = run_vpt(later_command(root))
        assert later.returncode == 0, f"after a kill before step {step}: {later.stderr}"
        assert_clean(root)
        state = bundle_state(root)
        assert {k: v for k, v in state.items() if k != "tasks"} == {k: v for k, v in after_kill.items()
                                                                     if k != "tasks"}
        outcomes.append("old" if after_kill == old else "new")
        shutil.rmtree(root.parent)
    return outcomes


def test_add_task_replace_killed_at_every_step_leaves_a_bundle_that_serves(shared, tmp_path):
    base = copy_bundle(shared["bundle"], tmp_path / "base")
    replacement = make_pack(tmp_path / "surface2.vptask", "surface", 2, seed=21)
    command = lambda root: ["bundle", "add-task", root, replacement, "--replace"]   # noqa: E731
    later_command = lambda root: ["bundle", "tidy", root]                           # noqa: E731

    old = bundle_state(base)
    finished = copy_bundle(base, tmp_path / "finished" / "bundle")
    steps = count_steps(command(finished), tmp_path)
    new = bundle_state(finished)
    assert new["tasks"]["surface"] == ["surface_0", "surface_1"] and new != old
    kinds = [line.split("\t")[1] for line in steps]
    assert kinds.count("replace") >= 3 and "create" in kinds   # the pack, the manifest, the texts

    outcomes = kill_loop(base, tmp_path, command, later_command, list(range(1, len(steps) + 1)), old, new)
    assert "old" in outcomes and "new" in outcomes   # the commit point lies inside the loop
    assert outcomes == sorted(outcomes, key=["old", "new"].index)   # once new, never old again


def export_steps_to_kill(steps: list[str], root: Path) -> list[int]:
    """Every step that touches anything outside the export's staging folder, and the first and last that do not.

    The steps before the first one outside the staging folder only write inside it (asserted here from their
    paths), so killing there leaves the bundle as it was; two of them are killed for real to show it, all of
    them with VPT_FAULT_EVERY_STEP=1 (one export per step: minutes on two cores).
    """
    staging = f"{root.parent}/.{root.name}."
    inside = [line.split("\t")[2].startswith(staging) for line in steps]
    first_outside = inside.index(False)
    assert all(inside[:first_outside]) and first_outside >= 2
    if os.environ.get("VPT_FAULT_EVERY_STEP") == "1":
        return list(range(1, len(steps) + 1))
    return [1, first_outside] + list(range(first_outside + 1, len(steps) + 1))


@pytest.mark.slow
def test_export_overwrite_killed_at_every_step_leaves_the_old_or_the_new_bundle(shared, tmp_path):
    """Each kill is a full ``vpt export`` (torch, ONNX export): 10-25 s per step on two cores."""
    base = copy_bundle(shared["bundle"], tmp_path / "base")
    replacement = make_pack(tmp_path / "surface2.vptask", "surface", 2, seed=21)
    later = make_pack(tmp_path / "later.vptask", "later", 3, seed=22)
    # One more prompt slot than the old bundle: another contract, so another backbone.onnx replaces the old one.
    command = lambda root: ["export", replacement, shared["packs"]["variant"], "--out", root,   # noqa: E731
                            "--overwrite", "--no-parity", "--prompt-slots", NUM_PROMPTS + 1]
    later_command = lambda root: ["bundle", "add-task", root, later]                           # noqa: E731

    old = bundle_state(base)
    finished = copy_bundle(base, tmp_path / "finished" / "bundle")
    steps = count_steps(command(finished), tmp_path)
    new = bundle_state(finished)
    assert new["slots"] == NUM_PROMPTS + 1 and new["backbone"] != old["backbone"]
    assert_clean(finished)

    chosen = export_steps_to_kill(steps, finished)
    outcomes = kill_loop(base, tmp_path, command, later_command, chosen, old, new)
    assert "old" in outcomes and "new" in outcomes
    assert outcomes == sorted(outcomes, key=["old", "new"].index)


@pytest.mark.slow
def test_a_new_export_killed_midway_leaves_no_bundle_and_the_next_export_cleans_up(shared, tmp_path):
    """A kill while the first export into a new folder writes its staging folder: no half bundle at the path."""
    out = tmp_path / "fresh"
    args = ["export", shared["packs"]["variant"], "--out", out, "--no-parity"]
    killed = run_vpt(args, kill_at=3)   # inside the staging folder (1: the folder, 2-3: backbone.onnx)
    assert killed.returncode == KILLED
    assert not out.exists() and len(list(tmp_path.glob(".fresh.*.partial"))) == 1
    assert run_vpt(args).returncode == 0
    assert bundle_state(out)["tasks"] == {"variant": ["variant_0", "variant_1", "variant_2"]}
    assert_clean(out)


def _why_strace_cannot_run() -> str:
    if not shutil.which("strace"):
        return "strace is not installed"
    probe = subprocess.run(["strace", "-f", "-qq", "-e", "trace=none", "true"], capture_output=True, text=True)
    return "" if probe.returncode == 0 else f"strace cannot trace here ({probe.stderr.strip()[:80]})"


STRACE_MISSING = _why_strace_cannot_run()


@pytest.mark.skipif(bool(STRACE_MISSING), reason=STRACE_MISSING or "strace present")
def test_the_fault_steps_cover_every_rename_and_unlink_the_kernel_sees(shared, tmp_path):
    """strace lists the command's rename and unlink system calls in the bundle; each must be a fault step."""
    import re

    root = copy_bundle(shared["bundle"], tmp_path / "bundle")
    replacement = make_pack(tmp_path / "surface2.vptask", "surface", 2, seed=21)
    # What a killed change leaves, for this one to remove (unlinks): a pack no manifest names, a temporary file.
    (root / "tasks" / "surface.0123456789ab.vptask").write_bytes(b"interrupted")
    (root / ".manifest.json.x1y2.tmp").write_text("{")
    trace, log = tmp_path / "trace.log", tmp_path / "steps.log"
    env = {**os.environ, "VPT_FAULT_LOG": str(log)}
    done = subprocess.run(["strace", "-f", "-qq", "-e", "trace=rename,renameat,renameat2,unlink,unlinkat",
                           "-o", str(trace), sys.executable, "-m", "vpt_core.cli", "bundle", "add-task", str(root),
                           str(replacement), "--replace"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    inside = re.escape(str(root))
    calls = [line for line in trace.read_text().splitlines() if re.search(f'"{inside}/', line) and "= 0" in line]
    renames = [line for line in calls if "rename" in line]
    unlinks = [line for line in calls if "unlink" in line]
    steps = [line.split("\t")[1] for line in log.read_text().splitlines()]
    assert renames and unlinks, trace.read_text()[-2000:]
    assert len(renames) == steps.count("replace") + steps.count("move")
    assert len(unlinks) == steps.count("remove")



def test_tidy_says_what_it_finished_and_then_that_nothing_is_left(shared, tmp_path):
    root = copy_bundle(shared["bundle"], tmp_path / "bundle")
    (root / "tasks" / "surface.0123456789ab.vptask").write_bytes(b"interrupted")
    (root / "README.txt").write_text("an older manifest's text\n")
    (tmp_path / ".bundle.abc123.partial").mkdir()   # an export killed long ago: nobody holds its lock
    first = run_vpt(["bundle", "tidy", root])
    assert first.returncode == 0 and "3 leftover(s) of interrupted changes tidied" in first.stdout
    assert "surface.0123456789ab.vptask" in first.stderr and ".bundle.abc123.partial" in first.stderr
    assert_clean(root)
    again = run_vpt(["bundle", "tidy", root])
    assert again.returncode == 0 and "nothing to tidy" in again.stdout
