"""Image files as a list model with thumbnails decoded lazily in a background thread.

The view asks only for the rows it shows; a missing thumbnail is requested from
the loader and a grey placeholder drawn meanwhile. The loader works newest
request first (what the user scrolled to now) and forgets requests that piled up
while scrolling, so thousands of images stay smooth. Decoded thumbnails are kept
in a bounded cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QMimeData, QModelIndex, QSize, Qt, QThread, QUrl, Signal
from PySide6.QtGui import QColor, QImage, QImageReader, QPixmap

THUMB_SIZE = 120
CACHE_LIMIT = 3000
MAX_PENDING = 256
IMAGE_MIME = "application/x-vpt-images"
PathRole = Qt.ItemDataRole.UserRole + 1


class ThumbnailLoader(QThread):
    loaded = Signal(str, QImage)

    def __init__(self, size: int = THUMB_SIZE):
        super().__init__()
        self.size = size
        self._pending: OrderedDict[str, None] = OrderedDict()
        self._wake = threading.Condition()
        self._stopping = False

    def request(self, path: str) -> None:
        with self._wake:
            self._pending.pop(path, None)
            self._pending[path] = None          # newest at the end
            while len(self._pending) > MAX_PENDING:
                self._pending.popitem(last=False)  # scrolled past long ago
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self.wait(5000)

    def run(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                path, _ = self._pending.popitem(last=True)
            self.loaded.emit(path, self.decode(path))

    def decode(self, path: str) -> QImage:
        reader = QImageReader(path)
        reader.setAutoTransform(True)
        size = reader.size()
        if size.isValid() and max(size.width(), size.height()) > self.size:
            reader.setScaledSize(size.scaled(self.size, self.size, Qt.AspectRatioMode.KeepAspectRatio))
        image = reader.read()
        if image.isNull():   # damaged file: show a red tile rather than nothing
            image = QImage(self.size, self.size, QImage.Format.Format_RGB32)
            image.fill(QColor("#c62828"))
        return image


class ThumbnailModel(QAbstractListModel):
    """Rows are image paths; DecorationRole is the thumbnail (placeholder until loaded)."""

    def __init__(self, loader: ThumbnailLoader, parent=None):
        super().__init__(parent)
        self.loader = loader
        self.paths: list[Path] = []
        self.rows: dict[str, int] = {}
        self.cache: OrderedDict[str, QPixmap] = OrderedDict()
        self.requested: set[str] = set()
        self.placeholder = QPixmap(THUMB_SIZE, THUMB_SIZE)
        self.placeholder.fill(QColor("#d0d0d0"))
        loader.loaded.connect(self._on_loaded)

    def set_paths(self, paths: list[Path]) -> None:
        self.beginResetModel()
        self.paths = list(paths)
        self.rows = {str(path): row for row, path in enumerate(self.paths)}
        self.requested.clear()
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.paths)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.paths):
            return None
        path = self.paths[index.row()]
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnail(str(path))
        if role == Qt.ItemDataRole.ToolTipRole:
            return path.name
        if role == PathRole:
            return path
        if role == Qt.ItemDataRole.SizeHintRole:
            return QSize(THUMB_SIZE + 12, THUMB_SIZE + 12)
        return None

    def _thumbnail(self, key: str) -> QPixmap:
        pixmap = self.cache.get(key)
        if pixmap is not None:
            self.cache.move_to_end(key)
            return pixmap
        if key not in self.requested:
            self.requested.add(key)
            self.loader.request(key)
        return self.placeholder

    def _on_loaded(self, key: str, image: QImage) -> None:
        self.requested.discard(key)
        self.cache[key] = QPixmap.fromImage(image)   # QPixmap only on the window's thread
        while len(self.cache) > CACHE_LIMIT:
            self.cache.popitem(last=False)
        row = self.rows.get(key)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def forget(self, paths) -> None:
        for path in paths:
            self.cache.pop(str(path), None)

    # -- drag and drop ------------------------------------------------------
    def flags(self, index: QModelIndex):
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [IMAGE_MIME, "text/uri-list"]

    def mimeData(self, indexes) -> QMimeData:  # noqa: N802
        paths = [str(self.paths[i.row()]) for i in indexes if i.isValid()]
        mime = QMimeData()
        mime.setData(IMAGE_MIME, "\n".join(paths).encode("utf-8"))
        mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
        return mime

    def supportedDragActions(self):  # noqa: N802
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction


def paths_from_mime(mime: QMimeData) -> list[Path]:
    """Images dragged from our own grid."""
    if not mime.hasFormat(IMAGE_MIME):
        return []
    return [Path(p) for p in bytes(mime.data(IMAGE_MIME)).decode("utf-8").splitlines() if p]
