"""``vpt serve`` runs where torch, Qt and TensorRT cannot even be imported."""

from __future__ import annotations

import json
import subprocess
import textwrap

import pytest

pytest.importorskip("fastapi", reason="vpt serve needs the station extra (pip install 'vpt-toolkit[station]')")

from test_export_support import python_without, shared_bundle  # noqa: E402

BLOCKED = ("torch", "torchvision", "timm", "PySide6", "PyQt5", "PyQt6", "tensorrt")

SERVE_SCRIPT = textwrap.dedent("""
    import io, json, sys, threading, time, urllib.request
    from pathlib import Path
    import numpy as np
    from PIL import Image

    from export.runtime.serve.options import ServeOptions
    from export.runtime.serve.server import ServiceServer, bind
    from export.runtime.serve.service import StationService

    service = StationService(ServeOptions(bundle=Path(sys.argv[2]), watch_interval_s=0))
    listener = bind("127.0.0.1", 0)
    server = ServiceServer(service, listener)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while service.station is None and service.load_error is None and time.monotonic() < deadline:
        time.sleep(0.05)
    buffer = io.BytesIO()
    Image.fromarray(np.full((40, 60, 3), 90, np.uint8)).save(buffer, format="PNG")
    request = urllib.request.Request(f"{url}/v1/predict?task=variant", data=buffer.getvalue(), method="POST")
    answer = json.loads(urllib.request.urlopen(request, timeout=30).read())
    metrics = urllib.request.urlopen(f"{url}/metrics", timeout=30).read().decode()
    server.stop()
    thread.join(30)
    loaded = sorted({name.split(".")[0] for name in sys.modules} & {%s})
    print(json.dumps({"label": answer["label"], "task": answer["task"], "loaded": loaded,
                      "metrics": "vpt_results_total" in metrics, "stopped": not thread.is_alive()}))
""" % ", ".join(repr(name) for name in BLOCKED))


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_bundle(tmp_path_factory)


def test_the_service_runs_without_torch_qt_or_tensorrt(shared, tmp_path):
    script = tmp_path / "serve_script.py"
    script.write_text(SERVE_SCRIPT)
    done = subprocess.run([*python_without(BLOCKED), str(script), str(shared["bundle"])],
                          capture_output=True, text=True, timeout=180, cwd=str(shared["root"]))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["loaded"] == [] and result["stopped"] and result["metrics"]
    assert result["task"] == "variant" and result["label"].startswith("variant_")
