"""The serve engine: runs never overlap, queued requests share the next run, each gets its own answer."""

from __future__ import annotations

import threading
import time

import pytest

from export.runtime.serve.engine import InferenceEngine
from export.runtime.serve.errors import Unavailable


class SlowStation:
    """Answers each prepared item with itself, slowly, and records every run."""

    def __init__(self, seconds: float = 0.05, fail: bool = False):
        self.seconds, self.fail = seconds, fail
        self.runs: list[list] = []
        self.active = 0
        self.overlaps = 0
        self.lock = threading.Lock()

    def predict_prepared(self, items):
        with self.lock:
            self.active += 1
            self.overlaps += self.active > 1
            self.runs.append(list(items))
        time.sleep(self.seconds)
        with self.lock:
            self.active -= 1
        if self.fail:
            raise RuntimeError("engine failure")
        return [("answer", item) for item in items]


def predict_from_threads(engine, count: int) -> tuple[dict, list]:
    answers, errors = {}, []

    def ask(index):
        try:
            answers[index] = engine.predict(f"picture {index}", timeout=30)
        except Exception as error:  # collected for the assertions
            errors.append(error)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers, errors


def test_concurrent_requests_share_runs_that_never_overlap():
    station = SlowStation()
    engine = InferenceEngine(station, max_batch=4)
    answers, errors = predict_from_threads(engine, 12)
    assert errors == [] and station.overlaps == 0
    assert answers == {i: ("answer", f"picture {i}") for i in range(12)}
    assert max(len(run) for run in station.runs) > 1 and all(len(run) <= 4 for run in station.runs)
    assert engine.images == 12 and engine.batches == len(station.runs) < 12


def test_one_at_a_time_when_the_batch_limit_is_one():
    station = SlowStation(seconds=0.01)
    answers, errors = predict_from_threads(InferenceEngine(station, max_batch=1), 6)
    assert errors == [] and len(answers) == 6 and [len(run) for run in station.runs] == [1] * 6
    assert station.overlaps == 0


def test_an_engine_failure_reaches_every_request_of_the_run_and_frees_the_engine():
    station = SlowStation(fail=True)
    engine = InferenceEngine(station, max_batch=8)
    answers, errors = predict_from_threads(engine, 5)
    assert answers == {} and len(errors) == 5 and all("engine failure" in str(e) for e in errors)
    station.fail = False
    assert engine.predict("after", timeout=5) == ("answer", "after")


def test_closing_answers_waiting_requests_with_503():
    station = SlowStation(seconds=0.5)
    engine = InferenceEngine(station, max_batch=1)
    first = threading.Thread(target=engine.predict, args=("first",))
    first.start()
    time.sleep(0.1)   # the first run is in progress
    waiting: list = []
    second = threading.Thread(target=lambda: waiting.append(_outcome(engine, "second")))
    second.start()
    time.sleep(0.1)
    engine.close()
    assert station.active == 0 and len(station.runs) == 1   # close() waited for the run in progress
    first.join(5)
    second.join(5)
    assert isinstance(waiting[0], Unavailable) and waiting[0].status == 503
    with pytest.raises(Unavailable, match="shutting down"):
        engine.predict("late")


def test_a_smoke_test_waits_between_runs():
    station = SlowStation(seconds=0.2)
    engine = InferenceEngine(station, max_batch=1)
    runner = threading.Thread(target=engine.predict, args=("picture",))
    runner.start()
    time.sleep(0.05)
    with engine.exclusive():
        assert station.active == 0          # the run finished before the smoke test got the engine
        busy = threading.Thread(target=engine.predict, args=("meanwhile",))
        busy.start()
        time.sleep(0.1)
        assert station.active == 0 and len(station.runs) == 1   # and nothing runs while it holds it
    busy.join(5)
    runner.join(5)
    assert len(station.runs) == 2 and station.overlaps == 0


def _outcome(engine, picture):
    try:
        return engine.predict(picture, timeout=10)
    except Exception as error:  # returned for the assertion
        return error
