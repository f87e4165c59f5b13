"""Serving every task of a bundle from one NVIDIA Triton Inference Server (torch-free).

``vpt triton export BUNDLE --out REPO`` writes a Triton model repository with two models::

    REPO/
      repository.json            what this is: toolkit version, model names, the source bundle
      README.txt
      vpt/                       the task-dispatch model (Python backend) that clients call
        config.pbtxt             IMAGE, TASK -> LABEL, CLASS_INDEX, CONFIDENCE, UNCERTAIN, PROBABILITIES,
        1/model.py                            CLASSES, PACK_SHA256; dynamic batching on
        bundle/                  a deploy bundle: manifest.json, tasks/*.vptask, backbone.onnx (hard link)
      vpt_backbone/              the backbone, loaded once
        config.pbtxt             Python backend running ONNX Runtime (what the pip wheel can run)
        configs/onnxruntime_gpu.pbtxt, configs/tensorrt_gpu.pbtxt    the full NGC container
        backbone.json            the contract and the sha256 of model.onnx
        build_tensorrt_plan.sh   trtexec for configs/tensorrt_gpu.pbtxt
        1/model.py, 1/model.onnx

Why two models: a task is only input tensors, so adding one must never reload the
backbone. Triton (explicit model control) reloads one model at a time, and BLS
calls are not dependencies, so reloading ``vpt`` leaves ``vpt_backbone`` loaded.

Why the tasks live in a bundle inside ``vpt/``: ``vpt triton add-task`` is then
``vpt bundle add-task`` on that folder -- the same validation (name, backbone
fingerprint, preprocessing, prompt slots, a smoke test through the graph), the
same lock and the same crash-safe commit (new files under unused names, one
manifest replace). Triton ignores files at the repository root and folders
inside a model folder whose names are not version numbers.

Modules: ``spec`` (names, files, the dispatch model's inputs and outputs),
``dispatch`` (decoding, per-task preprocessing, one backbone run per merged
batch, heads; no Triton needed), ``dispatch_model`` and ``backbone_model`` (the
Python-backend glue), ``model_config`` (config.pbtxt texts), ``repository``
(export, add-task), ``control`` (Triton's HTTP repository and statistics API),
``server`` (a local tritonserver from the nvidia-pytriton wheel), ``cli``.
"""
