"""Anomalies of every shape the store can hold, for the SIEM formats' conformance tests."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import strategies as st

from service.api.schemas.anomalies import AnomalyDetail, Contribution, ModelRef

# Text as events carry it: anything printable, including markup and quotes.
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40)
optional_texts = st.none() | texts.filter(bool)
source_ips = st.none() | st.ip_addresses().map(str) | st.sampled_from(["lb.internal", "unknown"])
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
contributions = st.builds(
    Contribution,
    feature=st.sampled_from(["touches_rbac", "hour_of_day", "first_in_environment"]),
    value=st.floats(-1e9, 1e9, allow_nan=False),
    typical=st.floats(-1e9, 1e9, allow_nan=False),
    contribution=st.floats(0, 1),
)


@st.composite
def anomalies(draw: st.DrawFn) -> AnomalyDetail:
    """Any anomaly the API can render: every optional field present or absent."""
    status = draw(st.sampled_from(["new", "acknowledged", "in_progress", "closed", "suppressed"]))
    return AnomalyDetail(
        id=draw(st.integers(1, 2**63 - 1)),
        event_id=draw(texts.filter(bool)),
        source=draw(
            st.sampled_from(["k8s_audit", "cloudtrail", "opa", "gatekeeper", "kyverno", "falco"])
        ),
        event_time=draw(moments),
        stored_at=draw(moments),
        actor=draw(optional_texts),
        actor_type=draw(st.none() | st.sampled_from(["user", "service_account", "node"])),
        action=draw(optional_texts),
        resource=draw(optional_texts),
        object=draw(optional_texts),
        namespace=draw(optional_texts),
        outcome=draw(st.none() | st.sampled_from(["allow", "deny", "error", "pass", "fail"])),
        source_ip=draw(source_ips),
        user_agent=draw(optional_texts),
        policy=draw(optional_texts),
        score=draw(st.floats(0, 100)),
        severity=draw(st.sampled_from(["low", "medium", "high", "critical"])),
        is_anomaly=True,
        explanation=draw(st.lists(contributions, max_size=4)),
        summary=draw(texts),
        model=ModelRef(name="auditlens", version=str(draw(st.integers(1, 999)))),
        status=status,
        verdict=draw(st.none() | st.sampled_from(["true_positive", "false_positive"]))
        if status == "closed"
        else None,
        assignee=draw(optional_texts),
        updated_at=None,
        suppression_id=1 if status == "suppressed" else None,
        raw=draw(texts),
    )
