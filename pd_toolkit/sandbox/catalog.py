"""Static description of the sandbox organisation and its recurring failure modes.

Everything here is plain, immutable data; `generate.py` turns it into API objects with a seeded
random generator. Failure-mode names are hidden ground truth: they never reach an API body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

Urgency = Literal["high", "low"]

TEAMS: tuple[tuple[str, str], ...] = (
    ("Payments", "Payment processing, ledger and fraud scoring."),
    ("Checkout & Storefront", "The web storefront, cart, checkout, search and inventory."),
    ("Platform", "Kubernetes, CDN, DNS and shared infrastructure."),
    ("Data", "Kafka, batch pipelines and the analytics warehouse."),
    ("Identity", "Login, OAuth, SSO and session management."),
    ("Mobile", "Mobile API gateway and push notifications."),
)


@dataclass(frozen=True)
class UserSpec:
    """A person in the account."""

    name: str
    time_zone: str
    job_title: str
    teams: tuple[str, ...]
    role: str = "user"


USERS: tuple[UserSpec, ...] = (
    UserSpec("Alice Nguyen", "America/New_York", "Senior Software Engineer", ("Payments",)),
    UserSpec("Bruno Costa", "Europe/Lisbon", "Software Engineer", ("Payments",)),
    UserSpec("Chen Wei", "Asia/Singapore", "Staff Engineer", ("Payments",)),
    UserSpec("Dana Okafor", "Europe/London", "Site Reliability Engineer", ("Payments",)),
    UserSpec("Erik Lindqvist", "Europe/Stockholm", "Database Engineer", ("Payments",)),
    UserSpec("Fatima Zahra", "Africa/Casablanca", "Software Engineer", ("Checkout & Storefront",)),
    UserSpec(
        "Gabriel Rossi", "Europe/Rome", "Senior Software Engineer", ("Checkout & Storefront",)
    ),
    UserSpec("Hana Sato", "Asia/Tokyo", "Frontend Engineer", ("Checkout & Storefront",)),
    UserSpec("Ivan Petrov", "Europe/Sofia", "Software Engineer", ("Checkout & Storefront",)),
    UserSpec("Julia Schmidt", "Europe/Berlin", "Staff Engineer", ("Checkout & Storefront",)),
    UserSpec("Kwame Mensah", "Africa/Accra", "Search Engineer", ("Checkout & Storefront",)),
    UserSpec("Laura Martinez", "America/Los_Angeles", "Site Reliability Engineer", ("Platform",)),
    UserSpec("Mohammed Al-Sayed", "Asia/Dubai", "Platform Engineer", ("Platform",)),
    UserSpec("Nina Kowalski", "Europe/Warsaw", "Senior Platform Engineer", ("Platform",)),
    UserSpec("Omar Haddad", "America/Chicago", "Network Engineer", ("Platform",)),
    UserSpec("Priya Raman", "America/Denver", "Site Reliability Engineer", ("Platform",)),
    UserSpec("Quentin Moreau", "America/New_York", "Platform Engineer", ("Platform",)),
    UserSpec("Rosa Delgado", "America/Mexico_City", "Data Engineer", ("Data",)),
    UserSpec("Samir Patel", "America/Chicago", "Staff Data Engineer", ("Data",)),
    UserSpec("Tomas Herrera", "America/Bogota", "Data Engineer", ("Data",)),
    UserSpec("Uma Iyer", "Asia/Kolkata", "Analytics Engineer", ("Data",)),
    UserSpec("Victor Chen", "America/Los_Angeles", "Streaming Engineer", ("Data",)),
    UserSpec("Wen Li", "Asia/Shanghai", "Security Engineer", ("Identity",)),
    UserSpec("Xavier Dubois", "Europe/Paris", "Software Engineer", ("Identity",)),
    UserSpec("Yusuf Demir", "Europe/Istanbul", "Senior Software Engineer", ("Identity",)),
    UserSpec("Zoe Campbell", "Australia/Sydney", "Software Engineer", ("Identity",)),
    UserSpec("Aditya Sharma", "Asia/Kolkata", "Mobile Engineer", ("Mobile",)),
    UserSpec("Beatriz Santos", "America/Sao_Paulo", "Senior Mobile Engineer", ("Mobile",)),
    UserSpec("Carlos Mendes", "America/Sao_Paulo", "Backend Engineer", ("Mobile",)),
    UserSpec("Daniela Ruiz", "America/Los_Angeles", "Mobile Engineer", ("Mobile",)),
    UserSpec(
        "Elena Popescu",
        "Europe/Bucharest",
        "Engineering Manager",
        ("Payments", "Checkout & Storefront"),
        "admin",
    ),
    UserSpec(
        "Frank O'Brien",
        "America/New_York",
        "Director of Engineering",
        ("Platform", "Data", "Identity", "Mobile"),
        "admin",
    ),
)


@dataclass(frozen=True)
class LayerSpec:
    """One schedule layer: users rotating every `turn_hours`, optionally restricted per day."""

    name: str
    users: tuple[str, ...]
    turn_hours: int
    virtual_start: str  # ISO-8601 UTC, fixed in the past so the rotation moves with `now`
    restriction: tuple[str, int] | None = None  # daily (start HH:MM:SS, duration seconds)


@dataclass(frozen=True)
class ScheduleSpec:
    """An on-call schedule owned by one team."""

    name: str
    team: str
    time_zone: str
    layers: tuple[LayerSpec, ...]
    description: str = ""


SCHEDULES: tuple[ScheduleSpec, ...] = (
    ScheduleSpec(
        "Payments Primary",
        "Payments",
        "America/New_York",
        (
            LayerSpec(
                "Weekly",
                ("Alice Nguyen", "Bruno Costa", "Chen Wei", "Dana Okafor"),
                168,
                "2024-01-01T14:00:00Z",
            ),
        ),
        "First responder for payments services. Handoff Mondays 09:00 New York.",
    ),
    ScheduleSpec(
        "Payments Secondary",
        "Payments",
        "Europe/London",
        (
            LayerSpec(
                "Weekly",
                ("Dana Okafor", "Erik Lindqvist", "Alice Nguyen", "Bruno Costa"),
                168,
                "2024-01-04T09:00:00Z",
            ),
        ),
        "Backup for Payments Primary.",
    ),
    ScheduleSpec(
        "Checkout Primary",
        "Checkout & Storefront",
        "Europe/Berlin",
        (
            LayerSpec(
                "Daily",
                ("Fatima Zahra", "Gabriel Rossi", "Hana Sato", "Ivan Petrov", "Julia Schmidt"),
                24,
                "2024-01-01T08:00:00Z",
            ),
        ),
        "Daily rotation for checkout, storefront, search and inventory.",
    ),
    ScheduleSpec(
        "Checkout Secondary",
        "Checkout & Storefront",
        "Europe/Berlin",
        (
            LayerSpec(
                "Weekly",
                ("Julia Schmidt", "Kwame Mensah", "Gabriel Rossi"),
                168,
                "2024-01-03T08:00:00Z",
            ),
        ),
    ),
    ScheduleSpec(
        "Platform Follow-the-Sun",
        "Platform",
        "UTC",
        (
            LayerSpec(
                "Base (24x7)",
                ("Nina Kowalski", "Mohammed Al-Sayed", "Omar Haddad", "Quentin Moreau"),
                168,
                "2024-01-01T07:00:00Z",
            ),
            LayerSpec(
                "Americas hours",
                ("Laura Martinez", "Priya Raman", "Omar Haddad"),
                24,
                "2024-01-01T15:00:00Z",
                ("15:00:00", 9 * 3600),
            ),
        ),
        "24x7 base layer with an Americas-hours overlay.",
    ),
    ScheduleSpec(
        "Data On-Call",
        "Data",
        "America/Chicago",
        (
            LayerSpec(
                "Weekly",
                ("Rosa Delgado", "Samir Patel", "Tomas Herrera", "Uma Iyer", "Victor Chen"),
                168,
                "2024-01-02T15:00:00Z",
            ),
        ),
    ),
    ScheduleSpec(
        "Identity On-Call",
        "Identity",
        "Europe/Paris",
        (
            LayerSpec(
                "Weekly",
                ("Wen Li", "Xavier Dubois", "Yusuf Demir", "Zoe Campbell"),
                168,
                "2024-01-01T09:00:00Z",
            ),
        ),
    ),
    ScheduleSpec(
        "Mobile On-Call",
        "Mobile",
        "America/Sao_Paulo",
        (
            LayerSpec(
                "Weekly (Wednesday handoff)",
                ("Aditya Sharma", "Beatriz Santos", "Carlos Mendes", "Daniela Ruiz"),
                168,
                "2024-01-03T13:00:00Z",
            ),
        ),
    ),
)


@dataclass(frozen=True)
class PolicySpec:
    """An escalation policy: levels of (delay minutes, targets); a target is a schedule or user."""

    name: str
    team: str
    levels: tuple[tuple[int, tuple[tuple[Literal["schedule", "user"], str], ...]], ...]
    description: str = ""


POLICIES: tuple[PolicySpec, ...] = (
    PolicySpec(
        "Payments",
        "Payments",
        (
            (15, (("schedule", "Payments Primary"),)),
            (15, (("schedule", "Payments Secondary"),)),
            (30, (("user", "Elena Popescu"),)),
        ),
        "Payments services.",
    ),
    PolicySpec(
        "Payments Database",
        "Payments",
        (
            (10, (("schedule", "Payments Primary"),)),
            (15, (("schedule", "Payments Secondary"), ("user", "Erik Lindqvist"))),
            (30, (("schedule", "Platform Follow-the-Sun"),)),
        ),
        "Postgres clusters behind payments; the DBA is paged at level 2.",
    ),
    PolicySpec(
        "Checkout & Storefront",
        "Checkout & Storefront",
        (
            (10, (("schedule", "Checkout Primary"),)),
            (15, (("schedule", "Checkout Secondary"),)),
            (30, (("user", "Elena Popescu"),)),
        ),
    ),
    PolicySpec(
        "Platform",
        "Platform",
        (
            (15, (("schedule", "Platform Follow-the-Sun"),)),
            (30, (("user", "Frank O'Brien"),)),
        ),
    ),
    PolicySpec(
        "Data",
        "Data",
        (
            (30, (("schedule", "Data On-Call"),)),
            (30, (("user", "Samir Patel"),)),
            (60, (("user", "Frank O'Brien"),)),
        ),
    ),
    PolicySpec(
        "Identity",
        "Identity",
        (
            (10, (("schedule", "Identity On-Call"),)),
            (15, (("schedule", "Platform Follow-the-Sun"),)),
            (30, (("user", "Frank O'Brien"),)),
        ),
    ),
    PolicySpec(
        "Mobile",
        "Mobile",
        (
            (15, (("schedule", "Mobile On-Call"),)),
            (30, (("user", "Beatriz Santos"),)),
        ),
    ),
)


@dataclass(frozen=True)
class ServiceSpec:
    """A PagerDuty service; `state` pins maintenance/disabled, otherwise open incidents decide."""

    name: str
    team: str
    policy: str
    description: str
    state: Literal["maintenance", "disabled"] | None = None


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("checkout", "Checkout & Storefront", "Checkout & Storefront", "Checkout API."),
    ServiceSpec(
        "storefront-web", "Checkout & Storefront", "Checkout & Storefront", "Next.js storefront."
    ),
    ServiceSpec("search", "Checkout & Storefront", "Checkout & Storefront", "Product search (ES)."),
    ServiceSpec(
        "inventory",
        "Checkout & Storefront",
        "Checkout & Storefront",
        "Stock levels synced from the warehouse management system.",
        "maintenance",
    ),
    ServiceSpec("payments-api", "Payments", "Payments", "Card authorisation and refunds."),
    ServiceSpec("payments-db", "Payments", "Payments Database", "Postgres 15 cluster + pgbouncer."),
    ServiceSpec("ledger", "Payments", "Payments", "Double-entry ledger and settlement jobs."),
    ServiceSpec("fraud-scoring", "Payments", "Payments", "Real-time fraud model serving."),
    ServiceSpec("k8s-cluster", "Platform", "Platform", "Production EKS clusters."),
    ServiceSpec("cdn-edge", "Platform", "Platform", "CDN edge and origin shield."),
    ServiceSpec("email-sender", "Platform", "Platform", "Transactional email via SES."),
    ServiceSpec("kafka", "Data", "Data", "Kafka brokers (MSK) and consumers."),
    ServiceSpec("data-pipeline", "Data", "Data", "Airflow batch pipelines."),
    ServiceSpec("analytics-warehouse", "Data", "Data", "Snowflake analytics warehouse."),
    ServiceSpec(
        "legacy-reports", "Data", "Data", "Retired monthly statement generator.", "disabled"
    ),
    ServiceSpec("identity-auth", "Identity", "Identity", "OAuth2 token service and sessions."),
    ServiceSpec("sso-gateway", "Identity", "Identity", "SAML/OIDC gateway for staff SSO."),
    ServiceSpec("mobile-api-gateway", "Mobile", "Mobile", "BFF for the iOS and Android apps."),
    ServiceSpec("mobile-push", "Mobile", "Mobile", "APNs and FCM push delivery."),
)

PRIORITIES: tuple[tuple[str, str], ...] = (
    ("P1", "Critical: customer-facing outage"),
    ("P2", "High: major degradation"),
    ("P3", "Moderate: partial degradation"),
    ("P4", "Low: minor issue"),
    ("P5", "Informational"),
)

Pattern = Literal["uniform", "business", "weekly", "daily", "bursty"]


@dataclass(frozen=True)
class FailureMode:
    """A recurring problem: how it looks when it fires and how it gets fixed.

    Text templates use `str.format` placeholders filled per incident (see `generate._Vars`), so
    the same host or version appears consistently in the title, the alert and the notes.
    """

    name: str
    services: tuple[str, ...]
    titles: tuple[str, ...]
    resolutions: tuple[str, ...]
    details: Mapping[str, str]
    urgency: Urgency
    priorities: tuple[str | None, ...]
    ttr_minutes: float
    weight: float
    source: str
    event_class: str
    severity: Literal["info", "warning", "error", "critical"] = "critical"
    pattern: Pattern = "uniform"
    weekday: int | None = None  # "weekly": 0 = Monday
    hours: tuple[int, int] | None = None  # "weekly"/"daily": UTC hour range [start, end)
    channel: Literal["api", "nagios", "email"] = "api"
    client: str = "Prometheus Alertmanager"
    change_prob: float = 0.1
    change_kind: Literal["deploy", "config", "flag"] = "deploy"
    lookalike: str | None = None
    hidden: tuple[str, ...] = ()
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    max_age_days: tuple[int, int] | None = None  # only between these days before now
    # A generic alert (e.g. an SLO burn-rate monitor) this mode fires through: the modes sharing
    # it share its titles, check and this constant dedup key; only their details differ.
    alert: str | None = None
    # A monitor renamed by its team: (days before now of the rename, the titles it fired with
    # before). Incidents older than that are worded with the old titles.
    renamed: tuple[int, tuple[str, ...]] | None = None
    # Detail fields that only some of its incidents carry (an optional tag, a missing label).
    optional: tuple[str, ...] = ()

    def titles_at(self, age_days: float) -> tuple[str, ...]:
        """The titles the mode fired with ``age_days`` before now (older ones if renamed)."""
        if self.renamed is not None and age_days > self.renamed[0]:
            return self.renamed[1]
        return self.titles

    def __post_init__(self) -> None:
        """Freeze the mapping fields so the shared catalog cannot be mutated."""
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))
        object.__setattr__(self, "choices", MappingProxyType(dict(self.choices)))


STACK_NPE = (
    'java.lang.NullPointerException: Cannot invoke "PromoCode.getDiscount()" because '
    '"promo" is null\n\tat com.example.checkout.promo.PromoCodeValidator.apply'
    "(PromoCodeValidator.java:88)\n\tat com.example.checkout.CheckoutController.submit"
    "(CheckoutController.java:214)"
)

# Generic alerts: one SLO burn-rate monitor per service whose title, check and dedup key are the
# same whatever the cause; the cause shows only in the trigger's custom details.
CHECKOUT_SLO_TITLES = (
    "checkout: availability SLO burn rate {burn}x over 1h",
    "[SLO] checkout availability 99.9% error budget burning fast",
)
CHECKOUT_500S_TITLE = "Elevated HTTP 500s on POST /api/checkout/submit ({pct}% of requests)"
CHECKOUT_SLO_DETAILS = {
    "slo": "checkout-availability-99.9",
    "burn_rate": "{burn}",
    "window": "1h",
    "endpoint": "POST /api/checkout/submit",
    "error_rate": "{pct}",
}
PAYMENTS_SLO_TITLES = (
    "payments-api: latency SLO burn rate {burn}x over 1h",
    "[SLO] payments-api authorize p99 latency error budget burning fast",
)
PAYMENTS_SLO_DETAILS = {
    "slo": "payments-authorize-p99-800ms",
    "burn_rate": "{burn}",
    "window": "1h",
    "endpoint": "POST /v1/authorize",
    "p99_ms": "{ms}",
}

MODES: tuple[FailureMode, ...] = (
    FailureMode(
        name="pg_pool_exhausted",
        services=("payments-db", "payments-api"),
        titles=(
            "Postgres connection pool exhausted on {db_host}",
            "pgbouncer: no more connections allowed (max_client_conn) on {db_host}",
            "payments-api: FATAL remaining connection slots are reserved ({n_conn} active)",
            "Connection pool saturation on payments-db primary {db_host} ({pct_hi}% of slots)",
        ),
        resolutions=(
            "Restarted pgbouncer on {db_host} and raised max_client_conn to {conn_limit}.",
            "Killed {n} idle-in-transaction sessions from payments-api workers; pool recovered.",
            "Rolled back payments-api {version}, which leaked connections in the refund path.",
            "Set idle_in_transaction_session_timeout=60s on {db_host}; connections drained.",
        ),
        hidden=(
            "Root cause: the refund retry worker holds a transaction open while calling the PSP.",
        ),
        details={
            "db_instance": "{db_host}",
            "pool_mode": "transaction",
            "cl_active": "{n_conn}",
            "cl_waiting": "{n}",
            "maxwait_seconds": "{n}",
            "query": "SHOW POOLS; -- payments/payments_rw",
            "error": "FATAL: sorry, too many clients already",
        },
        urgency="high",
        priorities=("P1", "P2", "P2"),
        ttr_minutes=40,
        weight=7,
        pattern="business",
        source="pgbouncer",
        event_class="database.connections",
        change_prob=0.3,
        lookalike="pg_replication_lag",
    ),
    FailureMode(
        name="pg_replication_lag",
        services=("payments-db",),
        titles=(
            "Postgres replication lag high on {replica} ({lag_s}s behind primary)",
            "payments-db replica {replica} replication lag above 300s",
            "Streaming replication delay on payments-db replica {replica}",
        ),
        resolutions=(
            "Replica was replaying a long VACUUM FULL on ledger_entries; waited for WAL replay.",
            "Moved read traffic off {replica} to the other replica until lag cleared.",
            "Raised wal_keep_size to 8GB and restarted the WAL receiver on {replica}.",
        ),
        details={
            "replica": "{replica}",
            "lag_seconds": "{lag_s}",
            "replay_lsn": "5E/{hex8}",
            "query": "SELECT now() - pg_last_xact_replay_timestamp() AS lag;",
        },
        urgency="low",
        priorities=("P3", "P4", None),
        ttr_minutes=70,
        weight=3,
        pattern="daily",
        hours=(1, 3),
        severity="warning",
        source="postgres-exporter",
        event_class="database.replication",
        lookalike="pg_pool_exhausted",
    ),
    FailureMode(
        name="psp_timeouts",
        services=("payments-api",),
        titles=(
            "payments-api upstream timeouts to {psp} above {pct}% (HTTP 504)",
            "PSP {psp} authorization requests timing out",
            "Elevated 504s from {psp} on POST /v1/authorize",
        ),
        resolutions=(
            "{psp} had a partial outage (status page incident); failed over to the secondary PSP.",
            "Raised the PSP client timeout back to 8s; a config change had reduced it to 2s.",
            "{psp} rate-limited us after a retry storm; added jittered backoff and recovered.",
        ),
        details={
            "psp": "{psp}",
            "timeout_rate": "{pct}",
            "endpoint": "POST /v1/authorize",
            "p99_ms": "{ms}",
        },
        urgency="high",
        priorities=("P1", "P2"),
        ttr_minutes=35,
        weight=3,
        pattern="bursty",
        source="payments-api",
        event_class="upstream.timeout",
        change_prob=0.2,
        change_kind="config",
        choices={"psp": ("Adyen", "Stripe", "Worldpay")},
    ),
    FailureMode(
        name="ledger_recon_failed",
        services=("ledger",),
        titles=(
            "Ledger reconciliation batch failed: {n} unmatched entries for {date}",
            "ledger-recon job exited with code 137 (OOMKilled) on {pod}",
            "Weekly settlement reconciliation did not complete ({date})",
        ),
        resolutions=(
            "Re-ran reconciliation with --batch-size 5000 after the OOM; completed in {n} min.",
            "Raised the ledger-recon memory limit to 6Gi and re-ran the job.",
            "Unmatched entries came from a late PSP settlement file; re-imported it and re-ran.",
        ),
        details={
            "job": "ledger-recon",
            "pod": "{pod}",
            "exit_code": "137",
            "unmatched_entries": "{n}",
            "settlement_date": "{date}",
        },
        urgency="low",
        priorities=("P3", "P4"),
        ttr_minutes=150,
        weight=2,
        pattern="weekly",
        weekday=0,
        hours=(2, 4),
        severity="error",
        channel="email",
        client="Cronitor",
        source="ledger-recon",
        event_class="batch.failure",
    ),
    FailureMode(
        name="fraud_model_latency",
        services=("fraud-scoring",),
        titles=(
            "fraud-scoring p99 latency {ms}ms above 800ms SLO",
            "Fraud model inference slow: p99={ms}ms on /score",
        ),
        resolutions=(
            "Feature store cache was cold after the deploy; warmed it and latency recovered.",
            "Model v{n} doubled inference time; pinned the previous model version.",
            "Scaled fraud-scoring GPU nodes from 2 to 4.",
        ),
        details={"p99_ms": "{ms}", "model_version": "fraud-xgb-{n}", "endpoint": "/score"},
        urgency="high",
        priorities=("P2", "P3"),
        ttr_minutes=45,
        weight=1,
        pattern="business",
        source="fraud-scoring",
        event_class="latency",
        change_prob=0.5,
    ),
    FailureMode(
        name="tls_cert_expiry",
        services=("payments-api", "identity-auth"),
        titles=(
            "TLS certificate for {cert_host} expires in {days} days",
            "Certificate expiry warning: {cert_host} (CN={cert_host})",
        ),
        resolutions=(
            "Renewed the certificate via cert-manager; the ACME order was stuck on DNS-01.",
            "Rotated the certificate manually and fixed the Route53 permissions for cert-manager.",
        ),
        details={"host": "{cert_host}", "days_remaining": "{days}", "issuer": "Let's Encrypt R11"},
        urgency="low",
        priorities=("P4", None),
        ttr_minutes=300,
        weight=0.5,
        severity="warning",
        channel="nagios",
        client="Nagios",
        source="nagios",
        event_class="certificate",
        choices={"cert_host": ("payments-api.example.com", "auth.example.com", "pay.example.com")},
    ),
    FailureMode(
        name="checkout_latency",
        services=("checkout",),
        titles=(
            "[Checkout] submit endpoint slow: p99 {ms}ms over the 2000ms threshold",
            "checkout-api request duration p99={ms}ms (POST /api/checkout/submit)",
            "checkout: latency SLO burn rate {burn}x over 1h",
        ),
        renamed=(
            45,
            (
                "checkout p99 latency above 2s ({ms}ms)",
                "High latency on POST /api/checkout/submit: p99={ms}ms",
                "checkout: latency SLO burn rate {burn}x over 1h",
            ),
        ),
        resolutions=(
            "Scaled the checkout deployment from {n} to {n2} replicas; latency recovered.",
            "Slow cart totals query (missing index on cart_items.cart_id); added the index.",
            "Redis hit ratio fell after an eviction policy change; reverted to allkeys-lru.",
        ),
        hidden=(
            "The real cause was inventory /availability calls taking 1.8s; added a 300ms timeout.",
        ),
        details={
            "endpoint": "POST /api/checkout/submit",
            "p99_ms": "{ms}",
            "p50_ms": "{ms_low}",
            "rps": "{rps}",
            "slo": "p99 < 2000ms",
        },
        optional=("p50_ms", "slo"),
        urgency="high",
        priorities=("P2", "P3"),
        ttr_minutes=30,
        weight=6,
        pattern="business",
        client="Datadog",
        source="checkout",
        event_class="latency",
        change_prob=0.25,
        lookalike="checkout_db_deadlocks",
    ),
    FailureMode(
        name="checkout_deploy_npe",
        services=("checkout",),
        titles=(*CHECKOUT_SLO_TITLES, CHECKOUT_500S_TITLE),
        resolutions=(
            "Bad deploy {version}: NullPointerException in PromoCodeValidator; rolled back.",
            "Rolled back checkout {version}; the promo-code refactor dereferenced a null promo.",
        ),
        hidden=("Only carts with a promo code were failing; see the stack trace in the alert.",),
        details={
            **CHECKOUT_SLO_DETAILS,
            "status_codes": "500",
            "error": 'java.lang.NullPointerException: Cannot invoke "PromoCode.getDiscount()"',
            "exception": STACK_NPE,
            "deploy_version": "{version}",
        },
        urgency="high",
        priorities=("P1", "P2"),
        ttr_minutes=25,
        weight=2,
        pattern="business",
        client="Datadog",
        source="datadog-slo",
        event_class="slo.burn_rate",
        change_prob=0.85,
        lookalike="checkout_mtls_expired",
        alert="slo/checkout-availability",
    ),
    FailureMode(
        name="checkout_mtls_expired",
        services=("checkout",),
        titles=(*CHECKOUT_SLO_TITLES, "TLS handshake failures from checkout to payments-api"),
        resolutions=(
            "Expired internal mTLS cert between checkout and payments-api; rotated it.",
            "Rotated the checkout client certificate in Vault and restarted the mesh sidecars.",
        ),
        details={
            **CHECKOUT_SLO_DETAILS,
            "status_codes": "502",
            "error": "x509: certificate has expired or is not yet valid: "
            "current time is after {cert_expiry}",
            "peer": "payments-api.internal:8443",
            "tls_subject": "CN=checkout.internal",
        },
        urgency="high",
        priorities=("P1", "P2"),
        ttr_minutes=35,
        weight=2,
        pattern="business",
        client="Datadog",
        source="datadog-slo",
        event_class="slo.burn_rate",
        change_prob=0.1,
        lookalike="checkout_payments_upstream",
        alert="slo/checkout-availability",
    ),
    FailureMode(
        name="checkout_payments_upstream",
        services=("checkout",),
        titles=(
            *CHECKOUT_SLO_TITLES,
            "checkout: upstream timeouts from payments-api ({pct}% of requests)",
        ),
        resolutions=(
            "payments-api was degraded by a PSP outage; enabled the queued-checkout fallback.",
            "A config push cut the checkout->payments-api timeout to 2s; restored 5s.",
        ),
        details={
            **CHECKOUT_SLO_DETAILS,
            "status_codes": "504",
            "error": "upstream request timeout: payments-api POST /v1/authorize after 5000ms",
            "upstream": "payments-api",
            "upstream_p99_ms": "{ms}",
        },
        urgency="high",
        priorities=("P1", "P2"),
        ttr_minutes=30,
        weight=2,
        pattern="bursty",
        client="Datadog",
        source="datadog-slo",
        event_class="slo.burn_rate",
        change_prob=0.2,
        change_kind="config",
        lookalike="checkout_deploy_npe",
        alert="slo/checkout-availability",
    ),
    FailureMode(
        name="payments_slo_psp_slow",
        services=("payments-api",),
        titles=(*PAYMENTS_SLO_TITLES, "PSP {psp} authorization calls slow (p99 {ms}ms)"),
        resolutions=(
            "{psp} was slow (their status page confirmed); failed over to the secondary PSP.",
            "Lowered the {psp} client timeout to 3s and let retries go to the secondary PSP.",
        ),
        details={
            **PAYMENTS_SLO_DETAILS,
            "top_span": "psp.authorize",
            "error": "upstream {psp} answered POST /v1/authorize slowly (read timeout 8000ms)",
            "upstream": "{psp}",
        },
        urgency="high",
        priorities=("P2", "P3"),
        ttr_minutes=35,
        weight=1.5,
        pattern="bursty",
        client="Datadog",
        source="datadog-slo",
        event_class="slo.burn_rate",
        lookalike="payments_slo_db_pool",
        alert="slo/payments-api-latency",
        choices={"psp": ("Adyen", "Stripe", "Worldpay")},
    ),
    FailureMode(
        name="payments_slo_db_pool",
        services=("payments-api",),
        titles=(*PAYMENTS_SLO_TITLES, "payments-api threads waiting for DB connections"),
        resolutions=(
            "HikariCP pool starved by idle-in-transaction sessions; killed them on {db_host}.",
            "Raised the payments-api HikariCP pool from 20 to 50 after the traffic growth.",
        ),
        details={
            **PAYMENTS_SLO_DETAILS,
            "top_span": "db.pool.acquire",
            "error": "HikariPool-1 - Connection is not available, request timed out after 30000ms",
            "db_instance": "{db_host}",
        },
        urgency="high",
        priorities=("P2", "P3"),
        ttr_minutes=40,
        weight=1.5,
        pattern="business",
        client="Datadog",
        source="datadog-slo",
        event_class="slo.burn_rate",
        lookalike="payments_slo_gc",
        alert="slo/payments-api-latency",
    ),
    FailureMode(
        name="payments_slo_gc",
        services=("payments-api",),
        titles=(*PAYMENTS_SLO_TITLES, "payments-api JVM garbage collection pauses on {pod}"),
        resolutions=(
            "Rolled back payments-api {version}: it kept whole refund batches in memory.",
            "Raised the payments-api heap to 4Gi and switched to ZGC; pauses gone.",
        ),
        details={
            **PAYMENTS_SLO_DETAILS,
            "top_span": "jvm.gc.pause",
            "error": "G1 Old Generation pause {ms_low}ms; heap {pct_hi}% used after GC",
            "pod": "{pod}",
        },
        urgency="high",
        priorities=("P2", "P3"),
        ttr_minutes=30,
        weight=1.5,
        pattern="business",
        client="Datadog",
        source="datadog-slo",
        event_class="slo.burn_rate",
        change_prob=0.5,
        lookalike="payments_slo_psp_slow",
        alert="slo/payments-api-latency",
    ),
    FailureMode(
        name="checkout_crashloop",
        services=("checkout",),
        titles=(
            "Pod {pod} in CrashLoopBackOff (namespace checkout)",
            "KubePodCrashLooping: checkout/{pod}",
        ),
        resolutions=(
            "Missing STRIPE_WEBHOOK_SECRET after secret rotation; re-synced the ExternalSecret.",
            "Container OOMKilled at 512Mi; raised the memory limit to 1Gi.",
            "Readiness probe pointed at a removed /healthz path; fixed the probe.",
        ),
        details={"namespace": "checkout", "pod": "{pod}", "restarts": "{n}", "reason": "Error"},
        urgency="high",
        priorities=("P2", "P3"),
        ttr_minutes=20,
        weight=2,
        source="kube-state-metrics",
        event_class="kubernetes.pod",
        change_prob=0.5,
    ),
    FailureMode(
        name="card_decline_spike",
        services=("checkout", "payments-api"),
        titles=(
            "Card decline rate spike: {pct}% declines in the last 10m",
            "Payment authorisation success rate dropped below 85%",
        ),
        resolutions=(
            "Issuer-side outage at a card network; nothing to fix on our side, monitored.",
            "3DS challenge flow broke after the payments SDK upgrade; rolled the SDK back.",
        ),
        details={"decline_rate": "{pct}", "window": "10m", "top_decline_code": "05"},
        urgency="high",
        priorities=("P2",),
        ttr_minutes=50,
        weight=1,
        pattern="bursty",
        client="Datadog",
        source="payments-api",
        event_class="business.metric",
        change_prob=0.2,
    ),
    FailureMode(
        name="cdn_cache_hit_drop",
        services=("cdn-edge", "storefront-web"),
        titles=(
            "CDN cache hit ratio dropped to {pct_low}% for www.example.com",
            "Origin traffic surge: storefront-web origin RPS {rps} (cache bypass)",
        ),
        resolutions=(
            "Cache key included the session cookie after a config push; reverted the VCL.",
            "Purged and re-warmed the product image paths after the bad purge-all.",
        ),
        details={"hit_ratio": "{pct_low}", "pop": "{pop}", "origin_rps": "{rps}"},
        urgency="low",
        priorities=("P3", None),
        ttr_minutes=60,
        weight=1.5,
        severity="warning",
        client="Fastly",
        source="cdn-edge",
        event_class="cache",
        change_prob=0.6,
        change_kind="config",
        lookalike="cdn_origin_502",
    ),
    FailureMode(
        name="cdn_origin_502",
        services=("cdn-edge",),
        titles=(
            "CDN origin errors (502) from edge POP {pop}",
            "Fastly: 502 Bad Gateway rate {pct}% at {pop}",
        ),
        resolutions=(
            "Origin shield misrouted after a DNS change; reverted the record.",
            "Origin TLS handshake failing after a cipher change on the ALB; restored the policy.",
        ),
        details={"pop": "{pop}", "error_rate": "{pct}", "status": "502"},
        urgency="high",
        priorities=("P2", "P3"),
        ttr_minutes=30,
        weight=1.5,
        client="Fastly",
        source="cdn-edge",
        event_class="errors",
        change_prob=0.4,
        change_kind="config",
        lookalike="cdn_cache_hit_drop",
    ),
    FailureMode(
        name="search_cluster_red",
        services=("search",),
        titles=(
            "Elasticsearch cluster health RED: {n} unassigned shards",
            "es-search-prod: cluster status red (index products-v{n2})",
        ),
        resolutions=(
            "Node {es_node} ran out of disk; expanded the volume to 2TB and rerouted shards.",
            "A master election loop after a JVM pause; restarted {es_node} with a larger heap.",
        ),
        details={"cluster": "es-search-prod", "unassigned_shards": "{n}", "node": "{es_node}"},
        urgency="high",
        priorities=("P2",),
        ttr_minutes=55,
        weight=1,
        source="elasticsearch-exporter",
        event_class="cluster.health",
    ),
    FailureMode(
        name="search_indexer_lag",
        services=("search",),
        titles=(
            "Search indexer lagging {lag} documents behind on products topic",
            "search-indexer consumer lag above threshold (group search-indexer)",
        ),
        resolutions=(
            "Bulk requests rejected (es_rejected_execution); halved the bulk size and restarted.",
            "A full catalog re-import flooded the topic; let it drain with 4 extra indexers.",
        ),
        details={"consumer_group": "search-indexer", "topic": "products", "lag": "{lag}"},
        urgency="low",
        priorities=("P3", "P4"),
        ttr_minutes=90,
        weight=1.5,
        severity="warning",
        source="burrow",
        event_class="consumer.lag",
        lookalike="kafka_consumer_lag",
    ),
    FailureMode(
        name="inventory_sync_failed",
        services=("inventory",),
        titles=(
            "Inventory sync from WMS failed: HTTP 503 from wms.partner.example.net",
            "inventory-sync: {n} SKUs stale for more than 30 minutes",
        ),
        resolutions=(
            "Partner WMS maintenance window; paused the sync and resumed afterwards.",
            "WMS API key expired; rotated it in Vault and restarted inventory-sync.",
        ),
        details={"upstream": "wms.partner.example.net", "stale_skus": "{n}", "status": "503"},
        urgency="low",
        priorities=("P4", None),
        ttr_minutes=120,
        weight=1,
        pattern="bursty",
        severity="error",
        source="inventory-sync",
        event_class="sync",
    ),
    FailureMode(
        name="k8s_node_not_ready",
        services=("k8s-cluster",),
        titles=(
            "KubeNodeNotReady: {k8s_node} not ready for more than 5m",
            "[EKS] worker {k8s_node} stopped reporting in prod-{region}",
        ),
        renamed=(
            100,
            (
                "KubeNodeNotReady: {k8s_node} not ready for more than 5m",
                "Node {k8s_node} NotReady (kubelet stopped posting node status)",
                "Kubernetes node {k8s_node} unreachable in prod-{region}",
            ),
        ),
        resolutions=(
            "Node had a kernel soft lockup; cordoned, drained and replaced it via the ASG.",
            "kubelet crashed after the containerd upgrade; rolled containerd back on the pool.",
            "EC2 instance retirement notice; replaced the node.",
        ),
        hidden=("The node pool was on the faulty AMI ami-0{hex8}; rebuilt the pool.",),
        details={"node": "{k8s_node}", "condition": "Ready=Unknown", "cluster": "prod-{region}"},
        urgency="high",
        priorities=("P2", "P3"),
        ttr_minutes=35,
        weight=6,
        channel="nagios",
        client="Nagios",
        source="kube-state-metrics",
        event_class="kubernetes.node",
        lookalike="k8s_disk_pressure",
    ),
    FailureMode(
        name="k8s_disk_pressure",
        services=("k8s-cluster",),
        titles=(
            "Node {k8s_node} has DiskPressure condition",
            "KubeletDiskPressure: imagefs usage {pct_hi}% on {k8s_node}",
        ),
        resolutions=(
            "Pruned unused images with crictl rmi --prune and lowered the image GC thresholds.",
            "A debug pod wrote 80GB of logs into an emptyDir; deleted the pod.",
        ),
        details={"node": "{k8s_node}", "imagefs_usage": "{pct_hi}", "cluster": "prod-{region}"},
        urgency="low",
        priorities=("P3", "P4"),
        ttr_minutes=45,
        weight=2,
        severity="warning",
        source="node-exporter",
        event_class="kubernetes.node",
        lookalike="k8s_node_not_ready",
    ),
    FailureMode(
        name="coredns_servfail",
        services=("k8s-cluster",),
        titles=(
            "CoreDNS SERVFAIL rate above {pct}% in prod-{region}",
            "DNS resolution failures from pods (i/o timeout to 172.20.0.10:53)",
        ),
        resolutions=(
            "CoreDNS pods were CPU throttled; raised limits and enabled NodeLocal DNSCache.",
            "Upstream VPC resolver hit the 1024 pps limit; added caching and spread queries.",
        ),
        details={"servfail_rate": "{pct}", "cluster": "prod-{region}", "upstream": "{ip}"},
        urgency="high",
        priorities=("P2",),
        ttr_minutes=30,
        weight=1,
        pattern="bursty",
        source="coredns",
        event_class="dns",
    ),
    FailureMode(
        name="etcd_slow_fsync",
        services=("k8s-cluster",),
        titles=(
            "etcd: high fsync durations on {etcd_node} (p99 {ms_low}ms)",
            "etcdHighFsyncDurations on prod-{region}",
        ),
        resolutions=(
            "Moved etcd to gp3 volumes with 6000 IOPS.",
            "Defragmented etcd and compacted revisions; db size down from 6GB to 1.2GB.",
        ),
        details={"member": "{etcd_node}", "fsync_p99_ms": "{ms_low}"},
        urgency="low",
        priorities=("P3",),
        ttr_minutes=80,
        weight=0.5,
        severity="warning",
        source="etcd",
        event_class="kubernetes.control-plane",
    ),
    FailureMode(
        name="ses_bounce_rate",
        services=("email-sender",),
        titles=(
            "Email bounce rate {pct}% above 5% threshold (SES)",
            "SES reputation: bounce rate under review for example.com",
        ),
        resolutions=(
            "A marketing import included an old list; suppressed {big_n} addresses.",
            "Signup form bot traffic created fake addresses; added a captcha.",
        ),
        details={"bounce_rate": "{pct}", "identity": "example.com", "region": "{region}"},
        urgency="low",
        priorities=("P3", "P4"),
        ttr_minutes=240,
        weight=1,
        severity="warning",
        client="AWS CloudWatch",
        source="ses",
        event_class="email.reputation",
        lookalike="email_queue_backlog",
    ),
    FailureMode(
        name="email_queue_backlog",
        services=("email-sender",),
        titles=(
            "Email send queue backlog {big_n} messages (sqs email-outbound)",
            "email-sender: ApproximateAgeOfOldestMessage above 900s",
        ),
        resolutions=(
            "SES throttling (Maximum sending rate exceeded); requested a quota increase.",
            "email-sender workers stuck on a template render loop; fixed the template.",
        ),
        details={"queue": "email-outbound", "visible_messages": "{big_n}"},
        urgency="low",
        priorities=("P3",),
        ttr_minutes=60,
        weight=1,
        severity="warning",
        client="AWS CloudWatch",
        source="sqs",
        event_class="queue.backlog",
        lookalike="ses_bounce_rate",
    ),
    FailureMode(
        name="kafka_consumer_lag",
        services=("kafka",),
        titles=(
            "orders pipeline behind: {cgroup} is {lag} messages late",
            "KafkaConsumerLagHigh: {cgroup} / orders",
        ),
        renamed=(
            30,
            (
                "Kafka consumer lag on orders topic above {lag} messages (group {cgroup})",
                "Consumer group {cgroup} lagging on topic orders (partition {partition})",
                "KafkaConsumerLagHigh: {cgroup} / orders",
            ),
        ),
        resolutions=(
            "A poison message at offset {offset} kept the consumer retrying; skipped it to DLQ.",
            "Scaled {cgroup} to {n2} replicas to match the partition count.",
            "Consumer rebalancing storm from a short session.timeout.ms; raised it to 45s.",
        ),
        hidden=("Lag was caused by a slow downstream payments-api call inside the consumer.",),
        details={
            "topic": "orders",
            "consumer_group": "{cgroup}",
            "partition": "{partition}",
            "lag": "{lag}",
        },
        urgency="high",
        priorities=("P2", "P3"),
        ttr_minutes=45,
        weight=6,
        pattern="business",
        source="burrow",
        event_class="consumer.lag",
        change_prob=0.2,
        lookalike="kafka_broker_disk",
        choices={"cgroup": ("order-fulfilment", "order-events-sink", "order-emailer")},
    ),
    FailureMode(
        name="kafka_broker_disk",
        services=("kafka",),
        titles=(
            "Kafka broker disk usage above 90% on {broker}",
            "kafka broker {broker}: log dir /var/lib/kafka usage {pct_hi}%",
        ),
        resolutions=(
            "Reduced retention.ms on the clickstream topic from 7d to 3d.",
            "Reassigned partitions from {broker} to the new broker.",
            "Expanded the EBS volume on {broker} to 4TB.",
        ),
        details={"broker": "{broker}", "disk_usage": "{pct_hi}", "log_dir": "/var/lib/kafka"},
        urgency="high",
        priorities=("P2",),
        ttr_minutes=70,
        weight=2,
        channel="nagios",
        client="Nagios",
        source="node-exporter",
        event_class="disk",
        lookalike="kafka_consumer_lag",
    ),
    FailureMode(
        name="airflow_weekly_rollup",
        services=("data-pipeline",),
        titles=(
            "Airflow DAG weekly_revenue_rollup failed (task load_to_warehouse)",
            "DAG run weekly_revenue_rollup__{date} failed after 3 retries",
        ),
        resolutions=(
            "Upstream S3 partition dt={date} was missing (export ran late); cleared and re-ran.",
            "Snowflake warehouse suspended mid-run; raised auto-suspend and re-ran the task.",
        ),
        details={
            "dag_id": "weekly_revenue_rollup",
            "task_id": "load_to_warehouse",
            "try_number": "3",
            "log_url": "https://airflow.example.com/log?dag_id=weekly_revenue_rollup",
        },
        urgency="low",
        priorities=("P3", "P4"),
        ttr_minutes=120,
        weight=1.2,
        pattern="weekly",
        weekday=0,
        hours=(2, 4),
        severity="error",
        channel="email",
        client="Airflow",
        source="airflow",
        event_class="batch.failure",
    ),
    FailureMode(
        name="schema_drift",
        services=("data-pipeline",),
        titles=(
            "Schema validation failed for events.{table}: unexpected column '{col}'",
            "dbt test failure: not_null_{table}_{col}",
        ),
        resolutions=(
            "A mobile app release added the field; registered the new schema version.",
            "Backfilled {table} for the affected hours after fixing the producer.",
        ),
        details={"table": "{table}", "column": "{col}", "rows_rejected": "{big_n}"},
        urgency="low",
        priorities=("P4", None),
        ttr_minutes=180,
        weight=1,
        pattern="bursty",
        severity="error",
        source="dbt",
        event_class="data.quality",
        change_prob=0.5,
        choices={
            "table": ("app_sessions", "page_views", "cart_events"),
            "col": ("device_tier", "ab_bucket", "consent_v2"),
        },
    ),
    FailureMode(
        name="warehouse_queue",
        services=("analytics-warehouse",),
        titles=(
            "Snowflake warehouse ANALYTICS_WH queued queries above {n}",
            "Warehouse ANALYTICS_WH credit usage spike ({n2} credits/h)",
        ),
        resolutions=(
            "Runaway dashboard query from finance-bi; killed query {uuid} and set a timeout.",
            "Scaled ANALYTICS_WH to a multi-cluster warehouse (max 3).",
        ),
        details={"warehouse": "ANALYTICS_WH", "queued": "{n}", "query_id": "{uuid}"},
        urgency="low",
        priorities=("P4",),
        ttr_minutes=60,
        weight=1,
        pattern="business",
        severity="warning",
        source="snowflake",
        event_class="warehouse",
    ),
    FailureMode(
        name="legacy_statements_timeout",
        services=("legacy-reports",),
        titles=(
            "Monthly statement generation timed out ({n} accounts pending)",
            "legacy-reports: PDF renderer exceeded 3600s",
        ),
        resolutions=(
            "Restarted the renderer and processed the pending accounts in batches of 500.",
            "Cleared the stuck wkhtmltopdf processes on report-01.",
        ),
        details={"job": "monthly_statements", "pending": "{n}"},
        urgency="low",
        priorities=("P4", None),
        ttr_minutes=200,
        weight=0.3,
        severity="error",
        channel="email",
        client="cron",
        source="report-01",
        event_class="batch.failure",
        max_age_days=(110, 180),
    ),
    FailureMode(
        name="login_error_rate",
        services=("identity-auth",),
        titles=(
            "[Identity] token endpoint error ratio {pct}% over 2%",
            "oauth-token-errors: POST /oauth/token failing ({pct}%)",
        ),
        renamed=(
            70,
            (
                "Login failure rate above {pct}% (POST /oauth/token)",
                "identity-auth: HTTP 503 on /oauth/token ({pct}% of requests)",
            ),
        ),
        resolutions=(
            "Redis session store failed over; restarted identity-auth to reconnect.",
            "bcrypt cost raised to 14 in config saturated CPU; reverted to 12.",
        ),
        details={
            "endpoint": "POST /oauth/token",
            "error_rate": "{pct}",
            "status_codes": "503",
            "p99_ms": "{ms}",
        },
        optional=("p99_ms", "status_codes"),
        urgency="high",
        priorities=("P1", "P2"),
        ttr_minutes=25,
        weight=2,
        pattern="business",
        source="identity-auth",
        event_class="errors",
        change_prob=0.4,
        change_kind="config",
        lookalike="login_latency",
    ),
    FailureMode(
        name="jwks_kid_missing",
        services=("identity-auth",),
        titles=(
            "JWT validation failures: kid '{hex8}' not found in JWKS",
            "Token verification errors spiking in downstream services (unknown signing key)",
        ),
        resolutions=(
            "Key rotation published before caches refreshed; re-published the old key for 24h.",
            "JWKS endpoint cached a stale key set at the CDN; purged /.well-known/jwks.json.",
        ),
        details={"kid": "{hex8}", "jwks_uri": "https://auth.example.com/.well-known/jwks.json"},
        urgency="high",
        priorities=("P1", "P2"),
        ttr_minutes=30,
        weight=1,
        source="identity-auth",
        event_class="auth.tokens",
        change_prob=0.5,
        change_kind="config",
        lookalike="login_error_rate",
    ),
    FailureMode(
        name="saml_idp_cert",
        services=("sso-gateway",),
        titles=(
            "SAML assertion validation failed for IdP okta-prod ({n} errors/min)",
            "sso-gateway: signature validation error for IdP okta-prod",
        ),
        resolutions=(
            "IT rotated the IdP signing certificate; uploaded the new cert to sso-gateway.",
            "Clock skew on sso-gateway-2 (chrony stopped); restarted chrony.",
        ),
        details={"idp": "okta-prod", "errors_per_min": "{n}"},
        urgency="high",
        priorities=("P2", "P3"),
        ttr_minutes=40,
        weight=1,
        pattern="bursty",
        source="sso-gateway",
        event_class="auth.saml",
    ),
    FailureMode(
        name="credential_stuffing",
        services=("identity-auth",),
        titles=(
            "Credential stuffing suspected: {big_n} failed logins/min from {ext_ip}",
            "Login anomaly: failed login spike from ASN {asn}",
        ),
        resolutions=(
            "Blocked the ASN at the WAF and enabled captcha on login for 24h.",
            "Rate-limited /login per IP to 10/min.",
        ),
        details={"source_ip": "{ext_ip}", "asn": "{asn}", "failed_per_min": "{big_n}"},
        urgency="high",
        priorities=("P2",),
        ttr_minutes=50,
        weight=1,
        pattern="bursty",
        client="Datadog",
        source="waf",
        event_class="security",
    ),
    FailureMode(
        name="apns_auth_failure",
        services=("mobile-push",),
        titles=(
            "APNs delivery failures {pct}% (403 InvalidProviderToken)",
            "mobile-push: iOS notifications failing (ExpiredProviderToken)",
        ),
        resolutions=(
            "The APNs auth key was revoked by mistake; uploaded a new .p8 key.",
            "Token signing used a stale team id after the app transfer; fixed the config.",
        ),
        details={"provider": "apns", "failure_rate": "{pct}", "reason": "InvalidProviderToken"},
        urgency="high",
        priorities=("P2", "P3"),
        ttr_minutes=40,
        weight=1,
        source="mobile-push",
        event_class="push.delivery",
        change_prob=0.3,
        change_kind="config",
        lookalike="fcm_quota",
    ),
    FailureMode(
        name="fcm_quota",
        services=("mobile-push",),
        titles=(
            "FCM sends throttled: quota exceeded for project example-mobile",
            "mobile-push: Android notifications failing ({pct}% QUOTA_EXCEEDED)",
        ),
        resolutions=(
            "A campaign sent to all devices at once; spread the sends over 10 minutes.",
            "Requested an FCM quota increase and enabled batching.",
        ),
        details={"provider": "fcm", "failure_rate": "{pct}", "reason": "QUOTA_EXCEEDED"},
        urgency="low",
        priorities=("P3", "P4"),
        ttr_minutes=60,
        weight=1,
        pattern="bursty",
        severity="warning",
        source="mobile-push",
        event_class="push.delivery",
        lookalike="apns_auth_failure",
    ),
    FailureMode(
        name="mobile_feed_latency",
        services=("mobile-api-gateway",),
        titles=(
            "[Mobile] feed endpoint slow: p95 {ms}ms",
            "mobile-bff-feed-latency: GET /v2/feed p95 over 1500ms",
        ),
        renamed=(
            60,
            (
                "mobile-api-gateway p95 latency {ms}ms on GET /v2/feed",
                "Slow responses from mobile BFF: GET /v2/feed p95={ms}ms",
            ),
        ),
        resolutions=(
            "Recommendations upstream was slow; enabled the cached fallback feed.",
            "Connection pool to recommendations at 20; raised it to 100.",
        ),
        details={
            "endpoint": "GET /v2/feed",
            "p95_ms": "{ms}",
            "p50_ms": "{ms_low}",
            "upstream": "recommendations",
        },
        optional=("p50_ms", "upstream"),
        urgency="low",
        priorities=("P3",),
        ttr_minutes=35,
        weight=1.5,
        pattern="business",
        severity="warning",
        client="Datadog",
        source="mobile-api-gateway",
        event_class="latency",
        change_prob=0.3,
        lookalike="mobile_feed_errors",
    ),
    # Neighbours: the same service and endpoint as a mode above, another failing signal (error
    # rate, saturation, latency), so their titles and details share the endpoint.
    FailureMode(
        name="checkout_db_deadlocks",
        services=("checkout",),
        titles=(
            "checkout 5xx rate {pct}% on POST /api/checkout/submit",
            "checkout-api submit errors above 5% ({pct}% HTTP 5xx)",
        ),
        resolutions=(
            "Deadlocks between cart merge and order insert; reordered the locks in the writer.",
            "Killed the orders backfill holding row locks on orders; the errors stopped.",
        ),
        details={
            "endpoint": "POST /api/checkout/submit",
            "error_rate": "{pct}",
            "status_codes": "500, 503",
            "rps": "{rps}",
            "error": "{db_error}",
        },
        optional=("rps", "status_codes", "error"),
        urgency="high",
        priorities=("P1", "P2"),
        ttr_minutes=30,
        weight=2.5,
        pattern="business",
        client="Datadog",
        source="checkout",
        event_class="errors",
        change_prob=0.15,
        lookalike="checkout_latency",
        choices={
            "db_error": (
                "ERROR: deadlock detected (SQLSTATE 40P01)",
                "ERROR: could not serialize access due to concurrent update",
                "ERROR: canceling statement due to lock timeout",
            )
        },
    ),
    FailureMode(
        name="checkout_cpu_saturation",
        services=("checkout",),
        titles=(
            "checkout CPU saturation {pct_hi}% on POST /api/checkout/submit pods",
            "checkout-api pods CPU throttled ({pct}% of periods)",
        ),
        resolutions=(
            "The HPA was capped at 6 replicas; raised maxReplicas to 16 and CPU settled.",
            "A regex in the address validator went quadratic on long inputs; shipped the fix.",
        ),
        details={
            "endpoint": "POST /api/checkout/submit",
            "cpu_utilization": "{pct_hi}",
            "cpu_throttled_pct": "{pct}",
            "rps": "{rps}",
            "hpa_replicas": "{n}",
        },
        optional=("rps", "hpa_replicas", "cpu_throttled_pct"),
        urgency="high",
        priorities=("P2", "P3"),
        ttr_minutes=35,
        weight=2,
        pattern="business",
        client="Datadog",
        source="checkout",
        event_class="saturation",
        change_prob=0.2,
        lookalike="checkout_latency",
    ),
    FailureMode(
        name="login_latency",
        services=("identity-auth",),
        titles=(
            "identity-auth p99 latency {ms}ms on POST /oauth/token",
            "Slow token issuance: POST /oauth/token p99={ms}ms",
        ),
        resolutions=(
            "Session store Redis was slow during a failover; pointed it at the new primary.",
            "An LDAP group lookup on every token call; cached group membership for 5 minutes.",
        ),
        details={
            "endpoint": "POST /oauth/token",
            "p99_ms": "{ms}",
            "p50_ms": "{ms_low}",
            "rps": "{rps}",
        },
        optional=("p50_ms", "rps"),
        urgency="high",
        priorities=("P2", "P3"),
        ttr_minutes=30,
        weight=2,
        pattern="business",
        source="identity-auth",
        event_class="latency",
        change_prob=0.2,
        lookalike="login_error_rate",
    ),
    FailureMode(
        name="auth_worker_saturation",
        services=("identity-auth",),
        titles=(
            "identity-auth worker pool saturated: {n2} requests queued on POST /oauth/token",
            "identity-auth request queue depth {n2} (POST /oauth/token)",
        ),
        resolutions=(
            "A slow password-hash migration pinned every worker; paused it and the queue drained.",
            "Scaled identity-auth workers from {n} to {n2}.",
        ),
        details={
            "endpoint": "POST /oauth/token",
            "queue_depth": "{n2}",
            "worker_utilization": "{pct_hi}",
            "rps": "{rps}",
        },
        optional=("worker_utilization", "rps"),
        urgency="high",
        priorities=("P2", "P3"),
        ttr_minutes=30,
        weight=1.5,
        pattern="business",
        source="identity-auth",
        event_class="saturation",
        lookalike="login_latency",
    ),
    FailureMode(
        name="mobile_feed_errors",
        services=("mobile-api-gateway",),
        titles=(
            "mobile-api-gateway 5xx rate {pct}% on GET /v2/feed",
            "Errors from mobile BFF: GET /v2/feed failing for {pct}% of requests",
        ),
        resolutions=(
            "recommendations answered 502 during its deploy; paused the rollout.",
            "A malformed feed item broke the JSON encoder; removed it and added validation.",
        ),
        details={
            "endpoint": "GET /v2/feed",
            "error_rate": "{pct}",
            "status_codes": "502, 504",
            "upstream": "recommendations",
        },
        optional=("status_codes", "upstream"),
        urgency="high",
        priorities=("P2", "P3"),
        ttr_minutes=30,
        weight=1.5,
        pattern="business",
        client="Datadog",
        source="mobile-api-gateway",
        event_class="errors",
        change_prob=0.3,
        lookalike="mobile_feed_latency",
    ),
)
