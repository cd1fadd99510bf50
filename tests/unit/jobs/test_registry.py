"""The job registry: every type resolves to a handler; schedules are unique."""

from __future__ import annotations

from jobs.registry import JOB_TYPES, SCHEDULES


def test_every_registered_job_type_resolves_to_a_callable_handler():
    for spec in JOB_TYPES.values():
        assert callable(spec.handler()), spec.type
    assert {spec.scope for spec in JOB_TYPES.values()} == {"tenant", "system"}
    assert len({s.job_type for s in SCHEDULES}) == len(SCHEDULES)
