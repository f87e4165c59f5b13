"""Getting a model ready, as jobs for gui.workers: download a recommended model, check a model file (Qt-free).

Both run in a worker thread; progress goes through ``emit`` and ``cancel`` stops them.
A download lands in the Hugging Face cache, where training finds it later without
the network. A model file is loaded into its architecture at once, so a file that
does not fit is refused when it is chosen, not when training starts.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from vpt_core.errors import VptError

from .model_catalogue import CatalogueModel


class _Cancelled(Exception):
    pass


@dataclass(frozen=True)
class DownloadProgress:
    done_bytes: int
    total_bytes: int


@dataclass(frozen=True)
class DownloadOutcome:
    path: Path | None          # the file in the cache; None when cancelled or offline
    offline: bool = False      # the download server could not be reached


@dataclass(frozen=True)
class FileCheckResult:
    path: Path
    architecture: str
    ignored: int          # tensors in the file the model does not use (e.g. a classifier head)


def hub_reachable(timeout_s: float = 3.0) -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() not in ("0", "", "false"):
        return False
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=timeout_s).close()
    except OSError:
        return False
    return True


def _progress_class(emit, cancel: threading.Event):
    """A tqdm class whose updates report progress and stop the download when cancelled."""
    from tqdm.auto import tqdm

    class Reporter(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["disable"] = False   # the counting must happen even when bars are switched off
            kwargs["file"] = open(os.devnull, "w")   # nothing on the terminal
            super().__init__(*args, **kwargs)

        def update(self, n=1):
            if cancel.is_set():
                raise _Cancelled()
            result = super().update(n)
            emit(DownloadProgress(int(self.n), int(self.total or 0)))
            return result

        def close(self):
            super().close()
            self.fp.close()
    return Reporter


def download_job(model: CatalogueModel, reachable=hub_reachable, download=None):
    """Download into the Hugging Face cache; an interrupted download resumes next time."""
    def job(emit, cancel: threading.Event) -> DownloadOutcome:
        if not reachable():
            return DownloadOutcome(None, offline=True)
        from huggingface_hub import hf_hub_download

        fetch = download or hf_hub_download
        try:
            path = fetch(model.hf_repo, model.hf_file, tqdm_class=_progress_class(emit, cancel),
                         cache_dir=os.environ.get("HF_HUB_CACHE") or None)
        except _Cancelled:
            return DownloadOutcome(None)
        except OSError as error:   # network and disk errors (httpx's errors derive from it too)
            raise VptError(f"the download stopped: {error}") from error
        return DownloadOutcome(None if cancel.is_set() else Path(path))
    return job


def file_check_job(architecture: CatalogueModel, path: Path):
    """Load ``path`` into ``architecture``; a BackboneError (naming what does not fit) if it cannot."""
    def job(emit, cancel: threading.Event) -> FileCheckResult:
        from vpt_engine.backbone import BackboneConfig, load_backbone

        try:
            backbone = load_backbone(BackboneConfig(architecture.timm_name, weights=str(path),
                                                    model_kwargs=dict(architecture.model_kwargs)))
        except VptError:
            raise
        except Exception as error:  # noqa: BLE001 - any unreadable file: said plainly, not as a crash
            raise VptError(f"{Path(path).name} is not a model file this app can read ({error})") from error
        ignored = len(backbone.report.ignored) if backbone.report is not None else 0
        return FileCheckResult(Path(path), architecture.timm_name, ignored)
    return job
