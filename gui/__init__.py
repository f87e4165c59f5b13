"""The desktop app (``vpt gui``): capture, label, train, evaluate, export and live inspection.

Qt lives only in this package. The engine and the exporter stay Qt-free; the app
turns their generators and callbacks into Qt signals in worker threads and
otherwise only wires widgets together.
"""
