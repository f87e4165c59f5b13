"""A local ``tritonserver`` from the ``nvidia-pytriton`` wheel, for ``vpt triton serve``, tests and benchmarks.

The wheel carries a real Triton (2.51) with only the Python backend. Its
Python-backend stub is built per Python version and must sit beside
``libtriton_python.so`` before a Python model loads. Rather than writing into
site-packages, :func:`prepare_backend_directory` assembles a backend folder
(the backend library, its utilities and the stub for this Python) once, in a
cache folder, and the server is pointed at it with ``--backend-directory``.

The stub embeds Python and finds its standard library and site-packages by
looking for ``python3`` on ``PATH``; the server is started with this Python's
folder first on ``PATH``, so the models import this installation of vpt-toolkit
(and its numpy) -- the venv it runs from.

The server listens on 127.0.0.1 only (HTTP, gRPC, metrics), in explicit model
control mode with the repository's models loaded at start. Every start is
bounded by a timeout and :meth:`TritonServer.stop` always ends the server and
its stub processes (its own process group).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Sequence

from vpt_core.errors import VptError

from .control import TritonHttp

LOOPBACK = "127.0.0.1"
PYTHON_BACKEND_FILES = ("libtriton_python.so", "triton_python_backend_utils.py")
STUB_NAME = "triton_python_backend_stub"
INSTALL_HINT = "pip install 'vpt-toolkit[triton]' (Linux x86_64 or aarch64)"


class TritonUnavailableError(VptError):
    """tritonserver (the nvidia-pytriton wheel) is not installed or cannot run in this environment."""


class TritonServerError(VptError):
    """tritonserver started but did not become ready, or stopped."""


@dataclass(frozen=True)
class TritonInstallation:
    package_dir: Path      # .../site-packages/pytriton
    version: str

    @property
    def server_binary(self) -> Path:
        return self.package_dir / "tritonserver" / "bin" / "tritonserver"

    @property
    def python_backend_dir(self) -> Path:
        return self.package_dir / "tritonserver" / "backends" / "python"

    @property
    def stub(self) -> Path:
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        return self.package_dir / "tritonserver" / "python_backend_stubs" / version / STUB_NAME

    @property
    def libs_dir(self) -> Path:
        return self.package_dir.parent / "nvidia_pytriton.libs"


def find_installation() -> TritonInstallation:
    """The wheel's tritonserver, or TritonUnavailableError with one line saying what to install."""
    spec = importlib.util.find_spec("pytriton")    # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise TritonUnavailableError(f"tritonserver is not installed (it comes with nvidia-pytriton): {INSTALL_HINT}")
    installation = TritonInstallation(Path(list(spec.submodule_search_locations)[0]),
                                      importlib.metadata.version("nvidia-pytriton"))
    for path in (installation.server_binary, *(installation.python_backend_dir / n for n in PYTHON_BACKEND_FILES)):
        if not path.is_file():
            raise TritonUnavailableError(f"{path} is missing from nvidia-pytriton {installation.version}; reinstall it")
    if not installation.stub.is_file():
        raise TritonUnavailableError(f"nvidia-pytriton {installation.version} has no Python-backend stub for Python "
                                     f"{sys.version_info.major}.{sys.version_info.minor} ({installation.stub})")
    return installation


def check_environment(installation: TritonInstallation) -> None:
    """What the Python-backend stub needs from this environment, checked before a server start fails obscurely."""
    import numpy

    if int(numpy.__version__.split(".")[0]) >= 2:
        raise TritonUnavailableError(
            f"Triton {installation.version}'s Python-backend stub is built against numpy 1 and corrupts string "
            f"tensors with numpy {numpy.__version__}; install numpy < 2 here: pip install 'numpy<2'")
    missing = _missing_libraries(installation.stub, installation.libs_dir)
    if missing:
        raise TritonUnavailableError(f"the Python-backend stub {installation.stub} needs {', '.join(missing)} "
                                     f"(Debian/Ubuntu: apt-get install libpython{sys.version_info.major}."
                                     f"{sys.version_info.minor})")


def _missing_libraries(binary: Path, libs_dir: Path) -> list[str]:
    if shutil.which("ldd") is None:
        return []   # cannot tell; a failing stub is then reported by the server's log
    env = {**os.environ, "LD_LIBRARY_PATH": _joined_path(os.environ.get("LD_LIBRARY_PATH"), libs_dir)}
    try:
        result = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, timeout=30, env=env)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.split("=>")[0].strip() for line in result.stdout.splitlines() if "not found" in line]


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vpt-toolkit" / "triton"


def prepare_backend_directory(installation: TritonInstallation, cache_dir: Path | None = None) -> Path:
    """A ``--backend-directory`` whose ``python/`` holds the backend and this Python's stub (made once, atomically)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    home = (cache_dir or default_cache_dir()) / f"pytriton-{installation.version}-py{version}"
    target = home / "backends"
    sources = {name: installation.python_backend_dir / name for name in PYTHON_BACKEND_FILES}
    sources[STUB_NAME] = installation.stub
    if _same_files(target / "python", sources):
        return target
    try:
        home.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".backends.", dir=home))
        (staging / "python").mkdir()
        for name, source in sources.items():
            shutil.copy2(source, staging / "python" / name)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except OSError as error:
        raise TritonUnavailableError(f"cannot prepare Triton's Python backend in {home}: "
                                     f"{error.strerror or error}") from error
    return target


def _same_files(folder: Path, sources: dict[str, Path]) -> bool:
    return all((folder / name).is_file() and (folder / name).stat().st_size == source.stat().st_size
               for name, source in sources.items())


@dataclass(frozen=True)
class Ports:
    http: int = 8000
    grpc: int = 8001
    metrics: int = 8002


def free_ports() -> Ports:
    """Three ports free on the loopback right now (another process may still take one: starts retry)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(3)]
        for sock in sockets:
            sock.bind((LOOPBACK, 0))
        return Ports(*(sock.getsockname()[1] for sock in sockets))


def server_command(installation: TritonInstallation, backends: Path, repositories: Sequence[Path],
                   models: Sequence[str], ports: Ports, log_verbose: int = 0,
                   model_config_name: str | None = None) -> list[str]:
    command = [str(installation.server_binary),
               *(f"--model-repository={Path(repository).resolve()}" for repository in repositories),
               f"--backend-directory={backends}", "--model-control-mode=explicit",
               *(f"--load-model={model}" for model in models),
               f"--http-address={LOOPBACK}", f"--grpc-address={LOOPBACK}", f"--metrics-address={LOOPBACK}",
               f"--http-port={ports.http}", f"--grpc-port={ports.grpc}", f"--metrics-port={ports.metrics}",
               "--strict-readiness=true", "--exit-timeout-secs=10", f"--log-verbose={int(log_verbose)}"]
    if model_config_name:
        command.append(f"--model-config-name={model_config_name}")
    return command


# glibc serves allocations below this from its heaps and keeps them after free(); by default the threshold
# rises to 32 MiB as large blocks are freed, so a batch's activations would stay resident after it ran.
MALLOC_MMAP_THRESHOLD = "1048576"


def server_environment(installation: TritonInstallation) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("MALLOC_MMAP_THRESHOLD_", MALLOC_MMAP_THRESHOLD)
    env["PATH"] = _joined_path(str(Path(sys.executable).parent), env.get("PATH"))
    env["LD_LIBRARY_PATH"] = _joined_path(env.get("LD_LIBRARY_PATH"), installation.libs_dir)
    return env


def _joined_path(*parts) -> str:
    return os.pathsep.join(str(part) for part in parts if part)


class TritonServer:
    """One tritonserver process: ``start()`` returns once every model is ready; ``stop()`` always ends it.

    ``ports=None`` picks free loopback ports (and retries on a clash); ``log_path``
    receives the server's output (None: it goes to this process's stdout/stderr).
    """

    def __init__(self, repositories: Sequence[Path], models: Sequence[str], *, ports: Ports | None = None,
                 log_path: Path | None = None, startup_timeout: float = 300.0, log_verbose: int = 0,
                 model_config_name: str | None = None, cache_dir: Path | None = None):
        self.repositories = [Path(repository) for repository in repositories]
        self.models = list(models)
        self.ports = ports
        self._auto_ports = ports is None
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self.log_verbose = log_verbose
        self.model_config_name = model_config_name
        self.cache_dir = cache_dir
        self.process: subprocess.Popen | None = None
        self._log: IO[bytes] | None = None

    @property
    def http_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.http}"

    @property
    def grpc_url(self) -> str:
        return f"{LOOPBACK}:{self.ports.grpc}"

    @property
    def metrics_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.metrics}/metrics"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> "TritonServer":
        installation = find_installation()
        check_environment(installation)
        backends = prepare_backend_directory(installation, self.cache_dir)
        attempts = 3 if self._auto_ports else 1
        for attempt in range(attempts):
            if self._auto_ports:
                self.ports = free_ports()
            self._launch(server_command(installation, backends, self.repositories, self.models, self.ports,
                                        self.log_verbose, self.model_config_name), server_environment(installation))
            problem = self._wait_until_ready()
            if problem is None:
                return self
            self.stop()
            if not (self._auto_ports and "address already in use" in problem.lower() and attempt + 1 < attempts):
                raise TritonServerError(problem)
        raise TritonServerError("tritonserver did not start")   # not reached: the loop returns or raises

    def _launch(self, command: list[str], env: dict[str, str]) -> None:
        output = None
        if self.log_path is not None:
            self._log = open(self.log_path, "ab")
            output = self._log
        # Its own process group: stop() can end the server's stub processes with it, and nothing else.
        self.process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                        stderr=subprocess.STDOUT if output else None, start_new_session=True)

    def _wait_until_ready(self) -> str | None:
        """None once ready; otherwise why not (the server exited, or the timeout passed)."""
        client = TritonHttp(self.http_url, timeout=2.0)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"tritonserver exited with code {self.process.returncode} while starting: {self.log_tail()}"
            if client.is_ready():
                return None
            time.sleep(0.25)
        return (f"tritonserver was not ready after {self.startup_timeout:.0f} s (models {', '.join(self.models)}): "
                f"{self.log_tail()}")

    def log_tail(self, lines: int = 6) -> str:
        if self.log_path is None or not self.log_path.is_file():
            return "see its output above"
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        interesting = [line for line in text if line.startswith("E") or "error" in line.lower()] or text
        return " | ".join(line.strip() for line in interesting[-lines:])

    def wait(self) -> int:
        return self.process.wait()

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (Triton unloads its models, ends its stubs and exits); SIGKILL to its process group if it lingers."""
        process, self.process = self.process, None
        if process is not None:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(process.pid, signal.SIGKILL)   # the server still leads its group: ours alone
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        process.wait(5)
            for pid in group_members(process.pid):                # a stub that outlived its server
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> "TritonServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def group_members(group: int) -> list[int]:
    """Processes of the process group ``group`` (Linux /proc; elsewhere none are found)."""
    members = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == group:
            members.append(int(entry.parent.name))
    return members
