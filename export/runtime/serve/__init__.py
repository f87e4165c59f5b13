"""``vpt serve``: the station as a long-running service (torch-free, Qt-free).

A line controller switches tasks, pushes new ones, asks for verdicts and
collects results over HTTP; results also leave through sinks (JSON-lines log,
kept pictures, MQTT, webhook). One backbone session is loaded once and never
reloaded while the service lives.

Design, and why:

* **FastAPI on uvicorn** (``app.py``, ``server.py``): a well-kept ASGI stack
  whose OpenAPI page (``/docs``) documents the API for integrators at no cost.
  Starlette alone would do the routing, but the page is what a PLC/MES
  integrator reads first. Both are an optional extra (``vpt-toolkit[station]``)
  so the base runtime stays small; nothing here imports torch or Qt.
* **Engine runs one at a time, queued requests merged** (``engine.py``):
  a request is decoded, preprocessed and run on one worker thread; whoever
  finds the engine free runs it, taking along what is queued (up to
  ``--max-batch``). A lone request waits for nobody and is handed between no
  threads; concurrent requests share a run; a task's prompts always travel
  with its image (contract 2: one run may mix tasks, each head is applied to
  its own row). Runs never overlap, which also suits TensorRT engines. On a
  CPU a batch was measured slower per picture than single runs, so the
  default there is 1; ``benchmarks/bench_serve.py`` measures both.
* **Bundle changes** go through ``bundle_edit`` (validated like ``vpt bundle
  add-task``, committed by one atomic manifest replace under a lock), then
  ``Station.reload_tasks`` picks them up without touching the backbone session.
  A watcher picks up changes made by other commands the same way.
* **Results** get increasing ids in a ring buffer (``GET /v1/results?since=``,
  server-sent events on ``/v1/results/stream``) and are offered to sinks.
  **Sinks never block inspection**: each has its own bounded queue and thread;
  what overflows is dropped, counted and reported on ``/metrics`` and
  ``/v1/health``, never silently.
* **Security**: anything but loopback needs a bearer token (``--token-file``,
  compared in constant time); uploads are size-limited; image formats are a
  fixed list (no decoder that shells out); bad input is a 4xx with one line.
"""
