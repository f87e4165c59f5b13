"""``vpt serve --mqtt`` against a real broker: Debian's mosquitto, started here on a free loopback port.

The broker keeps its state on disk (persistence), and the test's subscriber has
a persistent session with a QoS 1 subscription, so a broker restart loses
nothing on the subscriber's side: what these tests count is what the station
delivered or lost.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="vpt serve needs the station extra (pip install 'vpt-toolkit[station]')")
pytest.importorskip("httpx", reason="the serve tests need httpx (the test extra)")
mqtt = pytest.importorskip("paho.mqtt.client", reason="--mqtt needs paho-mqtt (the station extra)")

from serve_support import random_rgb, running_service, serve_options, wait_until  # noqa: E402
from test_export_support import copy_bundle, shared_bundle  # noqa: E402

MOSQUITTO = shutil.which("mosquitto") or next((p for p in ("/usr/sbin/mosquitto",) if os.path.exists(p)), None)
TOPIC = "line1/station3/results"


class Broker:
    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.folder, self.process = folder, None
        user = "user root\n" if os.geteuid() == 0 else ""   # as root it would switch to 'mosquitto' and lose the folder
        (folder / "mosquitto.conf").write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {folder}/\n{user}log_dest file {folder}/broker.log\n")

    def start(self) -> None:
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.folder / "mosquitto.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._accepts, 10, what=f"mosquitto on port {self.port}")

    def _accepts(self) -> bool:
        if self.process.poll() is not None:
            log = (self.folder / "broker.log").read_text() if (self.folder / "broker.log").exists() else ""
            raise AssertionError(f"mosquitto exited with {self.process.returncode}:\n{log}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()   # SIGTERM: it saves its state (our subscriber's session) first
            self.process.wait(10)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}/{TOPIC}"


class Subscriber:
    """A persistent-session QoS 1 subscriber: it gets what was published while it was away."""

    def __init__(self, port: int):
        self.messages: list[dict] = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"vpt-test-{os.getpid()}-{port}",
                                  clean_session=False)
        self.client.reconnect_delay_set(1, 2)
        self.client.on_connect = lambda client, *args: client.subscribe(TOPIC, qos=1)
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.on_message = self._received
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.subscribed.wait(10), "the test subscriber could not subscribe"

    def _received(self, client, userdata, message) -> None:
        with self.lock:
            self.messages.append(json.loads(message.payload))

    def ids(self) -> set[int]:
        with self.lock:
            return {message["id"] for message in self.messages}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker(tmp_path):
    if MOSQUITTO is None:
        pytest.skip("the MQTT tests need a real broker: Debian's mosquitto (apt-get install mosquitto) is not "
                    "installed here")
    broker = Broker(tmp_path / "broker")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def subscriber(broker):
    subscriber = Subscriber(broker.port)
    yield subscriber
    subscriber.close()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return shared_bundle(tmp_path_factory)


@pytest.fixture
def bundle(shared, tmp_path):
    return copy_bundle(shared["bundle"], tmp_path / "bundle")


def mqtt_sink(running):
    return next(sink for sink in running.service.sinks if sink.kind == "mqtt")


def test_each_result_is_published_with_its_pack(bundle, broker, subscriber):
    with running_service(serve_options(bundle, mqtt_url=broker.url)) as running:
        wait_until(lambda: mqtt_sink(running).connected, 20, what="the station to connect")
        answers = [running.predict(random_rgb(i), task=("surface", "variant")[i % 2]).json() for i in range(4)]
        wait_until(lambda: subscriber.ids() >= {a["id"] for a in answers}, 20, what="four messages")
        # The broker's acknowledgement (what "delivered" counts) can reach the station after the subscriber's copy.
        wait_until(lambda: mqtt_sink(running).status()["delivered"] >= 4, 20, what="four acknowledgements")
        status = mqtt_sink(running).status()
    by_id = {message["id"]: message for message in subscriber.messages}
    for answer in answers:
        assert by_id[answer["id"]] == answer    # the message is the result document, as the HTTP answer
    assert status["delivered"] == 4 and status["dropped"] == 0 and status["connected"]


def test_results_wait_while_the_broker_is_down_and_arrive_when_it_is_back(bundle, broker, subscriber):
    with running_service(serve_options(bundle, mqtt_url=broker.url, mqtt_buffer=50)) as running:
        sink = mqtt_sink(running)
        wait_until(lambda: sink.connected, 20, what="the station to connect")
        before = [running.predict(random_rgb(i)).json()["id"] for i in range(2)]
        wait_until(lambda: sink.delivered == 2, 20, what="two acknowledged messages")
        broker.stop()
        wait_until(lambda: not sink.connected, 20, what="the station to notice")
        during = [running.predict(random_rgb(10 + i)) for i in range(5)]
        health = running.get("/v1/health").json()
        assert sink.status()["queued"] == 5
        broker.start()
        wait_until(lambda: subscriber.ids() >= set(before) | {a.json()["id"] for a in during}, 60,
                   what="the buffered results to arrive")
        wait_until(lambda: sink.delivered == 7, 20, what="the broker to acknowledge them")
        status = sink.status()
    assert all(answer.status_code == 200 for answer in during)          # inspection never waited
    assert health["status"] == "degraded" and not health["sinks"][0]["connected"]
    assert any("lost the broker" in problem for problem in health["problems"])
    assert status["dropped"] == 0 and status["queued"] == 0 and status["connected"]


def test_when_the_buffer_overflows_the_loss_is_counted_and_reported(bundle, broker, subscriber):
    with running_service(serve_options(bundle, mqtt_url=broker.url, mqtt_buffer=3)) as running:
        sink = mqtt_sink(running)
        wait_until(lambda: sink.connected, 20, what="the station to connect")
        broker.stop()
        wait_until(lambda: not sink.connected, 20, what="the station to notice")
        ids = [running.predict(random_rgb(i)).json()["id"] for i in range(10)]
        metrics = running.get("/metrics").text
        broker.start()
        wait_until(lambda: sink.delivered == 3, 60, what="the three kept results")
        time.sleep(0.5)
        received = subscriber.ids()
    assert sink.dropped == 7
    assert f'vpt_sink_dropped_total{{sink="mqtt",target="{broker.url}"}} 7.0' in metrics
    assert received == set(ids[-3:])    # the newest three were kept and delivered
