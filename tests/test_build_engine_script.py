"""``build_engine.sh`` against a stand-in ``trtexec`` (issue 14, cases 10, 14, 15 and 16).

The stand-in prints the version banner real trtexec prints first on every run
("&&&& RUNNING TensorRT.trtexec [TensorRT v100300] ..."), records the arguments
of the build call and writes a file where ``--saveEngine`` points. No TensorRT
runs here; what is checked is the script's own logic: the version check before
the build, the backbone check, the precision variants, the timing-cache stamp
and the paths it prints.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from test_export_support import copy_bundle, shared_bundle

FAKE_TRTEXEC = """#!/bin/sh
echo "&&&& RUNNING TensorRT.trtexec [TensorRT v${FAKE_TRT_CODE}] [b17] # trtexec $*"
case "$1" in --help) exit 0 ;; esac
printf "%s\\n" "$@" > "$ARGS_FILE"
for a in "$@"; do case "$a" in --saveEngine=*) echo engine > "${a#--saveEngine=}";; esac; done
"""


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_bundle(tmp_path_factory)


@pytest.fixture
def bundle_copy(shared, tmp_path):
    return copy_bundle(shared["bundle"], tmp_path / "bundle")


@pytest.fixture
def run_script(bundle_copy, tmp_path):
    fake = tmp_path / "bin" / "trtexec"
    fake.parent.mkdir()
    fake.write_text(FAKE_TRTEXEC)
    fake.chmod(0o755)
    args_file = tmp_path / "args.txt"

    def run(*script_args, code="100300", **env):
        args_file.unlink(missing_ok=True)
        environment = {"PATH": f"{fake.parent}:/usr/bin:/bin", "ARGS_FILE": str(args_file), "FAKE_TRT_CODE": code,
                       **env}
        done = subprocess.run(["sh", str(bundle_copy / "build_engine.sh"), *script_args], env=environment,
                              capture_output=True, text=True, timeout=60)
        built = args_file.read_text().split("\n") if args_file.exists() else None
        return done, built

    return run


def test_fp16_build_uses_contract_shapes_without_precision_constraints(run_script, bundle_copy):
    done, args = run_script()
    assert done.returncode == 0, done.stderr
    assert "--onnx=backbone.onnx" in args and "--fp16" in args
    assert not [a for a in args if a.startswith(("--precisionConstraints", "--layerPrecisions"))]
    assert "--minShapes=images:1x3x32x32,prompts:1x2x4x48,prompt_mask:1x4" in args
    assert "--maxShapes=images:8x3x32x32,prompts:8x2x4x48,prompt_mask:8x4" in args
    assert "--timingCacheFile=engines/timing.cache" in args
    assert (bundle_copy / "engines" / "backbone.fp16.engine").read_text() == "engine\n"
    assert not (bundle_copy / "engines" / "backbone.fp16.engine.partial").exists()


def test_fp32_layer_constraints_are_an_option(run_script, bundle_copy):
    done, args = run_script("fp16-fp32norm")
    assert done.returncode == 0, done.stderr
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    assert "--fp16" in args and "--precisionConstraints=obey" in args
    layers = next(a for a in args if a.startswith("--layerPrecisions=")).split("=", 1)[1].split(",")
    assert layers == [f"{name}:fp32" for name in manifest["backbone"]["fp32_nodes"]]
    assert "--fp32-layers" in done.stderr   # recorded in the sidecar through register-engine
    done, args = run_script("fp32")
    assert done.returncode == 0 and "--fp16" not in args
    done, args = run_script("int4")
    assert done.returncode == 2 and "usage" in done.stderr and args is None


@pytest.mark.parametrize("code, version", [("8502", "8.5.2"), ("8602", "8.6.2")])
def test_jetpack_5_and_6_0_tensorrt_is_refused_before_the_build(run_script, code, version):
    done, args = run_script(code=code)
    assert done.returncode == 1 and args is None   # trtexec was only asked for --help
    assert f"TensorRT {version} is too old" in done.stderr and "JetPack 6.1 or newer" in done.stderr


def test_tensorrt_11_builds_fp32_only_and_an_unreadable_banner_needs_an_override(run_script):
    done, args = run_script(code="110400")
    assert done.returncode == 1 and args is None and "TensorRT 11.4.0 removed the fp16" in done.stderr
    done, args = run_script("fp32", code="110400")
    assert done.returncode == 0 and args is not None
    done, args = run_script(code="")
    assert done.returncode == 1 and args is None and "cannot read the TensorRT version" in done.stderr
    done, args = run_script(code="", VPT_SKIP_TENSORRT_CHECK="1")
    assert done.returncode == 0 and args is not None


def test_a_backbone_other_than_the_manifests_is_refused(run_script, bundle_copy):
    with open(bundle_copy / "backbone.onnx", "ab") as handle:
        handle.write(b"\0")
    done, args = run_script()
    assert done.returncode == 1 and args is None and "not the backbone manifest.json names" in done.stderr


def test_timing_cache_from_another_gpu_or_version_is_dropped(run_script, bundle_copy):
    cache = bundle_copy / "engines" / "timing.cache"
    done, _ = run_script()
    assert done.returncode == 0
    stamp = (bundle_copy / "engines" / "timing.cache.stamp").read_text()
    assert stamp.startswith("TensorRT 10.3.0 on ")
    cache.write_bytes(b"tactics")
    assert run_script()[0].returncode == 0 and cache.read_bytes() == b"tactics"   # same machine: kept
    done, _ = run_script(code="100700")
    assert done.returncode == 0 and not cache.exists() and "timing cache was made on another" in done.stderr


def test_the_register_hint_gives_absolute_paths(run_script, bundle_copy):
    done, _ = run_script()
    hint = next(line for line in done.stderr.splitlines() if "vpt deploy register-engine" in line)
    root = str(bundle_copy.resolve())
    assert f"register-engine {root} {root}/engines/backbone.fp16.engine --precision fp16" in hint
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    assert f"--onnx-sha256 {manifest['backbone']['sha256']}" in hint


FAKE_VPT = """#!/bin/sh
printf "%s\\n" "$@" > "$VPT_ARGS_FILE"
exit "${FAKE_VPT_EXIT:-0}"
"""


@pytest.mark.parametrize("exit_code", [0, 2])
def test_register_engine_gets_the_partial_engine_and_a_failure_keeps_it_with_the_command(
        run_script, bundle_copy, tmp_path, exit_code):
    fake = tmp_path / "bin" / "vpt"
    fake.write_text(FAKE_VPT)
    fake.chmod(0o755)
    done, _ = run_script("fp16-fp32norm", VPT_ARGS_FILE=str(tmp_path / "vpt_args.txt"), FAKE_VPT_EXIT=str(exit_code))
    root = str(bundle_copy.resolve())
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    called = (tmp_path / "vpt_args.txt").read_text().split("\n")
    assert called[:5] == ["deploy", "register-engine", root, f"{root}/engines/backbone.fp16.engine.partial",
                          "--precision"]
    assert "--fp32-layers" in called and called[called.index("--onnx-sha256") + 1] == manifest["backbone"]["sha256"]
    partial = bundle_copy / "engines" / "backbone.fp16.engine.partial"
    assert partial.exists()   # the stand-in does not move it; the real register-engine does, after the sidecar
    if exit_code:
        assert done.returncode == 1 and f"it waits in {root}/engines/backbone.fp16.engine.partial" in done.stderr
        assert "run: vpt deploy register-engine" in done.stderr
    else:
        assert done.returncode == 0
