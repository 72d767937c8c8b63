"""The one ledger of frames received and dropped, shared by the node's threads and the engine."""

from __future__ import annotations

import threading

from lerf_ros.data.drops import DropLedger


def test_received_and_dropped_add_up_by_reason():
    ledger = DropLedger()
    ledger.received(3)
    ledger.drop("invalid frame")
    ledger.refuse("bad image")
    ledger.refuse("bad image")
    assert ledger.frames_received == 5
    assert ledger.frames_dropped == 3
    assert ledger.reasons() == {"invalid frame": 1, "bad image": 2}
    assert ledger["bad image"] == 2 and ledger["no pose for stamp"] == 0


def test_reasons_is_a_copy():
    ledger = DropLedger()
    ledger.refuse("bad pose")
    ledger.reasons()["bad pose"] = 100
    assert ledger.reasons() == {"bad pose": 1}


def test_counts_from_many_threads_are_not_lost():
    ledger = DropLedger()

    def count():
        for _ in range(2000):
            ledger.refuse("bad image")
            ledger.received()

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ledger.frames_received == 16000
    assert ledger.frames_dropped == 8000
