"""What ``vpt serve`` is asked to do, checked before anything is loaded (one line per problem)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from vpt_core.errors import ConfigError

LOOPBACK_NAMES = ("localhost",)
MIN_TOKEN_CHARS = 16
MIB = 2 ** 20


@dataclass(frozen=True)
class SaveImagesOptions:
    folder: Path
    classes: frozenset[str] = frozenset()   # empty and not uncertain: keep every picture
    uncertain: bool = False
    max_files: int = 10_000
    max_bytes: int = 2048 * MIB


@dataclass(frozen=True)
class ServeOptions:
    bundle: Path
    host: str = "127.0.0.1"
    port: int = 8080
    task: str | None = None
    token: str | None = field(default=None, repr=False)
    backend: str = "auto"
    threads: int | None = None
    # frames from a camera, video, stream or folder, inspected continuously with the current task
    source: str | None = None
    source_loop: bool = False
    source_fps: float | None = None
    source_retry_window_s: float = 30.0
    # limits
    max_upload_bytes: int = 32 * MIB
    max_pixels: int = 50_000_000
    max_batch: int | None = None          # None: 1 on a CPU, 8 on a GPU (see engine.auto_max_batch)
    results_kept: int = 1000
    watch_interval_s: float = 2.0          # 0: do not watch the bundle for changes by other commands
    # sinks
    log_dir: Path | None = None
    log_file_bytes: int = 10 * MIB
    log_total_bytes: int = 100 * MIB
    save_images: SaveImagesOptions | None = None
    mqtt_url: str | None = None
    mqtt_buffer: int = 1000
    webhook_url: str | None = None
    webhook_buffer: int = 1000
    access_log: bool = False

    def __post_init__(self) -> None:
        _at_least("port", self.port, 0)
        _at_least("--max-upload-mb", self.max_upload_bytes, 1)
        _at_least("--max-pixels", self.max_pixels, 1)
        if self.max_batch is not None:
            _at_least("--max-batch", self.max_batch, 1)
        _at_least("--results-kept", self.results_kept, 1)
        _at_least("--mqtt-buffer", self.mqtt_buffer, 1)
        _at_least("--webhook-buffer", self.webhook_buffer, 1)
        if self.source_retry_window_s <= 0:
            raise ConfigError(f"--source-retry-window must be positive, got {self.source_retry_window_s}")
        if self.log_file_bytes * 2 > self.log_total_bytes:
            raise ConfigError(f"--log-total-mb ({self.log_total_bytes / MIB:g}) must be at least twice "
                              f"--log-file-mb ({self.log_file_bytes / MIB:g}): the file being written counts too")
        check_binding(self.host, self.token)


def _at_least(name: str, value: int, low: int) -> None:
    if not isinstance(value, int) or value < low:
        raise ConfigError(f"{name} must be a whole number of at least {low}, got {value!r}")


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    """Anything but loopback is reachable from the network: refuse it without a bearer token."""
    if not is_loopback(host) and not token:
        raise ConfigError(f"refusing to listen on {host}: anything but 127.0.0.1, ::1 or localhost is reachable "
                          "from the network, so a bearer token is required; give --token-file FILE (for example "
                          "made with 'openssl rand -hex 32 > FILE')")


def read_token_file(path: str | os.PathLike) -> str:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise ConfigError(f"--token-file {path}: cannot read it ({reason})") from error
    lines = text.strip().splitlines()
    token = lines[0].strip() if lines else ""
    if len(token) < MIN_TOKEN_CHARS:
        raise ConfigError(f"--token-file {path}: the token must be at least {MIN_TOKEN_CHARS} characters on the "
                          f"first line (it has {len(token)}); make one with 'openssl rand -hex 32 > {path}'")
    if any(ch.isspace() for ch in token):
        raise ConfigError(f"--token-file {path}: the token must not contain spaces")
    return token


def token_file_warning(path: str | os.PathLike) -> str | None:
    """A token readable by every user of the machine is not much of a secret."""
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        return f"{path} is readable by other users; 'chmod 600 {path}' keeps the token private"
    return None


def options_from_args(args: argparse.Namespace) -> ServeOptions:
    token = read_token_file(args.token_file) if args.token_file else None
    save = None
    if args.save_images:
        classes = frozenset(name.strip() for name in (args.save_classes or "").split(",") if name.strip())
        save = SaveImagesOptions(Path(args.save_images), classes, args.save_uncertain,
                                 args.save_max_files, int(args.save_max_mb * MIB))
    elif args.save_classes or args.save_uncertain:
        raise ConfigError("--save-classes and --save-uncertain need --save-images DIR")
    return ServeOptions(
        bundle=Path(args.bundle), host=args.host, port=args.port, task=args.task, token=token,
        backend=args.backend, threads=args.threads, source=args.source, source_loop=args.source_loop,
        source_fps=args.source_fps, source_retry_window_s=args.source_retry_window,
        max_upload_bytes=int(args.max_upload_mb * MIB), max_pixels=args.max_pixels, max_batch=args.max_batch,
        results_kept=args.results_kept, watch_interval_s=args.watch_interval,
        log_dir=Path(args.log) if args.log else None, log_file_bytes=int(args.log_file_mb * MIB),
        log_total_bytes=int(args.log_total_mb * MIB), save_images=save,
        mqtt_url=args.mqtt, mqtt_buffer=args.mqtt_buffer, webhook_url=args.webhook,
        webhook_buffer=args.webhook_buffer, access_log=args.access_log)
