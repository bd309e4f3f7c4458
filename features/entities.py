"""Who an event is *about*: the entity whose history judges it, and the peer group behind it.

The actor string an adapter writes is what an analyst reads, but it is not
always the level at which behaviour is stable. An AWS assumed role appears as
``role/session``, and machine sessions carry random or instance names
(``botocore-session-1712345678``, ``i-0abc…``), so keying history on the actor
would start every session with no history at all. Kubernetes nodes come and go
with the autoscaler; a tool installed today brings service accounts nobody has
seen. So history is kept per **entity** (the principal at the level where its
behaviour is stable) and per **peer group** (what this *kind* of identity
usually does), and an entity never seen before is judged against its peers and
the whole environment instead of being flagged for being new
(:mod:`features.history`).

Mapping, by source and ``actor_type`` (the actor as the adapters write it):

===========  =============================  ==========================  ========================
source       actor                          entity                      peer group
===========  =============================  ==========================  ========================
cloudtrail   ``AWSReservedSSO_<set>_…/<who>`` ``<who>`` (the person)      ``aws:sso:<set>``
             (Identity Center session)
cloudtrail   ``<role>/<session>`` (role)    ``<role>`` (session ignored) ``aws:roles``
cloudtrail   IAM user, Identity Center user the actor                   ``aws:users``
cloudtrail   root / service / federated     the actor                   ``aws:<actor_type>``
k8s_audit    ``system:serviceaccount:<ns>:<n>`` the actor               ``k8s:serviceaccounts:<ns>``
k8s_audit    ``system:node:<name>``         ``system:nodes`` (a class)  ``k8s:nodes``
k8s_audit    control-plane components       the actor                   ``k8s:control-plane``
             (``system:kube-controller-manager``, ``-scheduler``,
             ``system:apiserver``, ``system:kube-proxy``, …)
k8s_audit    other ``system:*``             the actor                   ``k8s:system``
k8s_audit    people                         the actor                   ``k8s:users``
policy and   the actor, else ``<source>``   as left                     ``<source>:<actor_type>``
generic
===========  =============================  ==========================  ========================

Everything here is a polars expression over the normalized columns, so it is
computed once per batch, vectorised, for training and scoring alike.
"""

from __future__ import annotations

import polars as pl

SSO_ROLE_PREFIX = "AWSReservedSSO_"
CONTROL_PLANE = (
    "system:kube-controller-manager",
    "system:kube-scheduler",
    "system:apiserver",
    "system:kube-proxy",
    "system:kube-aggregator",
    "kube-apiserver-kubelet-client",
    "system:volume-scheduler",
)
NODE_CLASS = "system:nodes"

_SOURCE = pl.col("source")
_ACTOR = pl.col("actor")
_TYPE = pl.col("actor_type")
_IS_ROLE = (_SOURCE == "cloudtrail") & (_TYPE == "role") & _ACTOR.str.contains("/")
_ROLE = _ACTOR.str.extract(r"^([^/]+)/", 1)
_SESSION = _ACTOR.str.extract(r"^[^/]+/(.+)$", 1)
_IS_SSO = _IS_ROLE & _ROLE.str.starts_with(SSO_ROLE_PREFIX)
_IS_SA = (_SOURCE == "k8s_audit") & _ACTOR.str.starts_with("system:serviceaccount:")


def entity() -> pl.Expr:
    """The principal whose own history an event is judged against (see the module table)."""
    return (
        pl.when(_IS_SSO)
        .then(_SESSION)
        .when(_IS_ROLE)
        .then(_ROLE)
        .when((_SOURCE == "k8s_audit") & _ACTOR.str.starts_with("system:node:"))
        .then(pl.lit(NODE_CLASS))
        .otherwise(pl.coalesce(_ACTOR, _SOURCE))
    )


def peer_group() -> pl.Expr:
    """What kind of identity the entity is: new entities are judged against this group."""
    sa_namespace = _ACTOR.str.extract(r"^system:serviceaccount:([^:]*):", 1)
    sso_set = _ROLE.str.extract(r"^AWSReservedSSO_(.+?)_[0-9a-f]+$", 1)
    aws_type = pl.coalesce(_TYPE, pl.lit("unknown"))
    return (
        pl.when(_IS_SSO)
        .then(pl.lit("aws:sso:") + pl.coalesce(sso_set, _ROLE))
        .when(_IS_ROLE)
        .then(pl.lit("aws:roles"))
        .when(_SOURCE == "cloudtrail")
        .then(
            pl.lit("aws:") + pl.when(aws_type == "user").then(pl.lit("users")).otherwise(aws_type)
        )
        .when(_IS_SA)
        .then(pl.lit("k8s:serviceaccounts:") + pl.coalesce(sa_namespace, pl.lit("")))
        .when((_SOURCE == "k8s_audit") & _ACTOR.str.starts_with("system:node:"))
        .then(pl.lit("k8s:nodes"))
        .when((_SOURCE == "k8s_audit") & _ACTOR.is_in(CONTROL_PLANE))
        .then(pl.lit("k8s:control-plane"))
        .when((_SOURCE == "k8s_audit") & _ACTOR.str.starts_with("system:"))
        .then(pl.lit("k8s:system"))
        .when(_SOURCE == "k8s_audit")
        .then(pl.lit("k8s:users"))
        .otherwise(_SOURCE + pl.lit(":") + pl.coalesce(_TYPE, pl.lit("any")))
    )


def target() -> pl.Expr:
    """The container an action reaches into: an S3 object's bucket, otherwise the object.

    Reading one more key of a bucket the entity reads every day is routine; reading
    a bucket it seldom touches is not, so rarity is judged on the bucket.
    """
    bucket = pl.col("object").str.extract(r"^(arn:aws:s3:::[^/]+)", 1)
    return pl.coalesce(bucket, pl.col("object"))


def bytes_out() -> pl.Expr:
    """Bytes the call sent out, where the record carries them (CloudTrail S3 data events)."""
    found = pl.col("raw").str.extract(r'"bytesTransferredOut"\s*:\s*([0-9.eE+]+)', 1)
    return (
        pl.when(_SOURCE == "cloudtrail")
        .then(found.cast(pl.Float64, strict=False))
        .otherwise(None)
        .fill_null(0.0)
    )
