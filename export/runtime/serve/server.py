"""Starting and stopping ``vpt serve``: checks first, then listen, then load the backbone.

Order, and why: every setting and the bundle itself are checked before the
port is opened, so bad input is one line and a non-zero exit, never a server
that half works. The port is opened next, so ``/v1/health`` answers 503 while
the backbone loads (seconds for a TensorRT engine). A backbone that cannot be
loaded stops the service with one line (exit 2), for systemd to report.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
from dataclasses import dataclass

import uvicorn

from vpt_core.errors import BundleError, ConfigError, VptError

from ..bundle import Bundle
from .app import create_app
from .options import ServeOptions, token_file_warning
from .service import StationService

log = logging.getLogger("vpt.serve")


def serve(options: ServeOptions, token_file: str | None = None) -> int:
    configure_logging()
    if token_file and (warning := token_file_warning(token_file)):
        log.warning("%s", warning)
    bundle = Bundle.open(options.bundle)
    if options.task and options.task not in bundle.tasks:
        raise BundleError(f"--task {options.task!r}: no such task in {bundle.root}; tasks: {', '.join(bundle.tasks)}")
    service = StationService(options, bundle)
    listener = bind(options.host, options.port)
    running = ServiceServer(service, listener)
    host, port = listener.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"vpt serve: listening on http://{shown}:{port} (API description at /docs); loading the backbone",
          file=sys.stderr, flush=True)
    running.run()
    if service.load_error:
        raise VptError(service.load_error)
    return 0


def configure_logging(level: int = logging.INFO) -> None:
    """One line per event on stderr (journald adds the time under systemd)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("vpt serve: %(levelname)s %(message)s"))
    for name in ("vpt.serve", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, opened here so a busy port is one clear line (and port 0 picks a free one)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as error:
        raise ConfigError(f"--host {host!r}: cannot resolve it ({error.strerror})") from error
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        listener.bind(address)
        listener.listen(128)
    except OSError as error:
        listener.close()
        raise ConfigError(f"cannot listen on {host}:{port} ({error.strerror or error})") from error
    return listener


@dataclass
class ServiceServer:
    """uvicorn serving ``service`` on an open socket; the backbone loads on a thread meanwhile."""

    service: StationService
    listener: socket.socket

    def __post_init__(self) -> None:
        options = self.service.options
        config = uvicorn.Config(create_app(self.service), log_config=None, access_log=options.access_log,
                                lifespan="off", ws="none", server_header=False, timeout_graceful_shutdown=3,
                                timeout_keep_alive=30)
        self.server = _Server(config, on_shutdown=self.service.ring.close)
        self._loader = threading.Thread(target=self._load, name="vpt-load", daemon=True)

    def _load(self) -> None:
        try:
            self.service.load()
        except VptError as error:
            self.service.load_error = f"cannot load the backbone: {error}"
        except Exception as error:  # noqa: BLE001 -- reported in one line, the traceback goes to the log
            self.service.load_error = f"cannot load the backbone: {type(error).__name__}: {error}"
            log.debug("load failed", exc_info=error)
        if self.service.load_error:
            log.error("%s", self.service.load_error)
            self.server.should_exit = True

    def run(self) -> None:
        """Serve until SIGTERM/SIGINT (main thread) or ``stop()``; then close the service."""
        # uvicorn shuts down gracefully on SIGTERM, then raises it again with the handler it found. The
        # default handler would kill the process before the sinks deliver what they hold: find ours instead.
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _stopped_by_sigterm) if main else None
        self._loader.start()
        try:
            self.server.run(sockets=[self.listener])
        finally:
            self._loader.join(60)
            self.service.close()
            self.listener.close()
            if main:
                signal.signal(signal.SIGTERM, previous)

    def stop(self) -> None:
        self.server.should_exit = True

    @property
    def started(self) -> bool:
        return self.server.started


class _Server(uvicorn.Server):
    """uvicorn's server, telling the service when shutdown begins (live result streams end at once)."""

    def __init__(self, config: uvicorn.Config, on_shutdown):
        super().__init__(config)
        self.on_shutdown = on_shutdown

    async def shutdown(self, sockets=None) -> None:
        self.on_shutdown()
        await super().shutdown(sockets=sockets)


def _stopped_by_sigterm(signum, frame) -> None:
    log.info("stopped (SIGTERM)")
