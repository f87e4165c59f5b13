"""``--mqtt mqtt://HOST:PORT/TOPIC``: each result published as JSON with QoS 1 (paho-mqtt).

Results wait in the sink's bounded queue and are handed to paho only while the
broker is connected, at most ``in_flight`` unacknowledged at a time. paho keeps
those in-flight messages across a reconnect and sends them again, so a broker
that goes away loses nothing until the queue overflows; the overflow is
counted (``dropped``) and reported. A result counts as delivered when the
broker acknowledges it (PUBACK). QoS 1 means at least once: a message
interrupted by a disconnect may arrive twice, and its ``id`` tells the copies apart.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from vpt_core.errors import ConfigError

from .base import QueuedSink, log

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True)
class MqttTarget:
    host: str
    port: int
    topic: str
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> "MqttTarget":
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ConfigError(f"--mqtt {url!r}: expected mqtt://HOST[:PORT]/TOPIC (or mqtts:// for TLS)")
        topic = unquote(parts.path.lstrip("/"))
        if not topic or "+" in topic or "#" in topic:
            raise ConfigError(f"--mqtt {url!r}: give the topic to publish to after the address, without "
                              "wildcards, e.g. mqtt://broker:1883/line1/station3/results")
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError as error:
            raise ConfigError(f"--mqtt {url!r}: {error}") from error
        return cls(parts.hostname, port, topic, parts.scheme == "mqtts",
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)

    def describe(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}/{self.topic}"


class MqttPublisher(QueuedSink):
    kind = "mqtt"

    def __init__(self, url: str, capacity: int, in_flight: int = 100, reconnect_min_s: int = 1,
                 reconnect_max_s: int = 30, keepalive_s: int = 30):
        self.mqtt_target = MqttTarget.parse(url)
        super().__init__(self.mqtt_target.describe(), capacity)
        try:
            import paho.mqtt.client as mqtt
        except ImportError as error:
            raise ConfigError("--mqtt needs paho-mqtt: pip install 'vpt-toolkit[station]'") from error
        self._mqtt = mqtt
        self.in_flight_limit, self.keepalive_s = in_flight, keepalive_s
        self.connected = False
        self._pending: dict[int, dict] = {}
        self._acked_early: set[int] = set()
        self._pending_lock = threading.Lock()
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, clean_session=True,
                             client_id=f"vpt-station-{socket.gethostname()}-{os.getpid()}-{id(self) % 10000}")
        if self.mqtt_target.tls:
            client.tls_set()
        if self.mqtt_target.username:
            client.username_pw_set(self.mqtt_target.username, self.mqtt_target.password)
        client.reconnect_delay_set(reconnect_min_s, reconnect_max_s)
        client.on_connect, client.on_disconnect = self._on_connect, self._on_disconnect
        client.on_publish = self._on_publish
        self._client = client

    def start(self) -> None:
        self._client.connect_async(self.mqtt_target.host, self.mqtt_target.port, self.keepalive_s)
        self._client.loop_start()   # paho's thread: connects, reconnects with back-off, sends, receives acks
        super().start()

    # -- paho's callbacks (its network thread) -----------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._note_failure(f"the broker refused the connection ({reason_code})")
            return
        self.connected = True
        log.info("mqtt %s: connected", self.target)
        self._note_success()
        self._wake()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was = self.connected
        self.connected = False
        if was and not self._stopping:
            self._note_failure(f"lost the broker ({reason_code}); results are kept (up to {self.capacity}) "
                               "until it is back")
        self._wake()

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._pending_lock:
            if self._pending.pop(mid, None) is not None:
                self.delivered += 1
            else:   # acknowledged before publish() returned to our thread
                self._acked_early.add(mid)
        self._wake()

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    # -- the sink's thread --------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._ready_to_send():
                    if self._stopping and (not self._queue or not self.connected or self._past_deadline()):
                        return
                    self._cond.wait(0.5)
                event = self._queue.popleft()
            info = self._client.publish(self.mqtt_target.topic, json.dumps(event.record, ensure_ascii=False), qos=1)
            with self._pending_lock:
                if info.mid in self._acked_early:
                    self._acked_early.discard(info.mid)
                    self.delivered += 1
                else:
                    self._pending[info.mid] = event.record

    def _ready_to_send(self) -> bool:
        return bool(self._queue) and self.connected and self.in_flight < self.in_flight_limit \
            and not (self._stopping and self._past_deadline())

    def _past_deadline(self) -> bool:
        return time.monotonic() > self._deadline

    @property
    def in_flight(self) -> int:
        with self._pending_lock:
            return len(self._pending)

    def _close(self) -> None:
        while self.in_flight and self.connected and not self._past_deadline():
            time.sleep(0.02)
        self._client.disconnect()
        self._client.loop_stop()

    def _abandoned(self) -> int:
        with self._pending_lock:
            left = len(self._pending)
            self._pending.clear()
        return left

    @property
    def healthy(self) -> bool:
        return self.connected and super().healthy

    def status(self) -> dict:
        return {**super().status(), "connected": self.connected, "in_flight": self.in_flight}
