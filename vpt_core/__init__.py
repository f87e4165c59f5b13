"""The torch-free, Qt-free core every other layer stands on.

File formats (task packs, bundle manifests, the ONNX input/output contract),
preprocessing, image reading, frame sources, splits, metrics, atomic writes and
the error hierarchy. It imports nothing from ``vpt_engine``, ``export`` or
``gui`` and neither torch nor Qt (checked by import-linter, see
``docs/architecture.md``), so the station runtime can run on a Jetson without
torch.
"""

__version__ = "0.1.0"
