"""Deploy task packs: one ONNX backbone per station, tasks as swappable inputs.

* ``export.bundle_builder`` (needs torch): ``export_bundle`` and ``add_task``.
* ``export.runtime`` (torch-free): ``Station`` and ``Bundle`` for inspection stations.
* ``export.cli``: ``vpt export`` and ``vpt bundle``; ``export.runtime.cli``: ``vpt infer`` and ``vpt deploy``.

Importing this package imports nothing heavy.
"""
