"""Request and response shapes of the public API, one module per resource."""

from service.api.schemas.anomalies import (
    AnomalyDetail,
    AnomalyList,
    AnomalyPublic,
    Contribution,
    EcsAlert,
    EcsAlertList,
    HistoryEntry,
    HistoryList,
    ModelRef,
    OcsfFinding,
    OcsfFindingList,
    SuppressFromTriage,
    SuppressionRef,
    TriageRequest,
    TriageResponse,
)
from service.api.schemas.common import ErrorDetail, UnprocessableDetail, errors

__all__ = [
    "AnomalyDetail",
    "AnomalyList",
    "AnomalyPublic",
    "Contribution",
    "EcsAlert",
    "EcsAlertList",
    "ErrorDetail",
    "HistoryEntry",
    "HistoryList",
    "ModelRef",
    "OcsfFinding",
    "OcsfFindingList",
    "SuppressFromTriage",
    "SuppressionRef",
    "TriageRequest",
    "TriageResponse",
    "UnprocessableDetail",
    "errors",
]
