from __future__ import annotations

from app.readiness import Readiness


def test_readiness_new_worker_not_ready() -> None:
    readiness = Readiness("events")

    assert not readiness.ready
    assert readiness.describe() == {
        "ready": False,
        "recovered": False,
        "events_topic": "events",
        "partitions": [],
    }


def test_readiness_assigned_and_recovered_ready() -> None:
    readiness = Readiness("events")
    readiness.partitions_revoked()
    readiness.partitions_assigned([("events", 2), ("events", 0), ("app-users-changelog", 0)])
    assert not readiness.ready

    readiness.recovery_done()

    assert readiness.ready
    assert readiness.partitions == frozenset({0, 2})
    assert readiness.describe()["partitions"] == [0, 2]


def test_readiness_recovery_before_assignment_report() -> None:
    readiness = Readiness("events")
    readiness.partitions_revoked()
    readiness.recovery_done()
    readiness.partitions_assigned([("events", 1)])

    assert readiness.ready


def test_readiness_only_other_topics_not_ready() -> None:
    readiness = Readiness("events")
    readiness.partitions_assigned([("app-users-changelog", 0), ("other", 1)])
    readiness.recovery_done()

    assert not readiness.ready
    assert readiness.recovered


def test_readiness_revoked_clears_both() -> None:
    readiness = Readiness("events")
    readiness.partitions_assigned([("events", 0)])
    readiness.recovery_done()
    readiness.partitions_revoked()

    assert not readiness.ready
    assert not readiness.recovered
    assert readiness.partitions == frozenset()
