"""Where results go besides the HTTP answer: a JSON-lines log, kept pictures, MQTT, a webhook."""

from __future__ import annotations

from ..options import ServeOptions
from .base import Permanent, QueuedSink, SinkEvent


def build_sinks(options: ServeOptions) -> list[QueuedSink]:
    """The sinks the options ask for (not started). Bad settings raise a one-line VptError."""
    sinks: list[QueuedSink] = []
    if options.log_dir is not None:
        from .jsonlog import JsonLinesLog

        sinks.append(JsonLinesLog(options.log_dir, options.log_file_bytes, options.log_total_bytes))
    if options.save_images is not None:
        from .images import ImageArchive

        save = options.save_images
        sinks.append(ImageArchive(save.folder, save.classes, save.uncertain, save.max_files, save.max_bytes))
    if options.mqtt_url:
        from .mqtt import MqttPublisher

        sinks.append(MqttPublisher(options.mqtt_url, options.mqtt_buffer))
    if options.webhook_url:
        from .webhook import WebhookPoster

        sinks.append(WebhookPoster(options.webhook_url, options.webhook_buffer))
    return sinks


__all__ = ["Permanent", "QueuedSink", "SinkEvent", "build_sinks"]
