"""The one settings object, read from the environment (or `.env`) by entry points only."""

from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """keycase configuration; every field maps to a `KEYCASE_*` variable."""

    model_config = SettingsConfigDict(env_prefix="KEYCASE_", env_file=".env", extra="ignore")

    data_dir: Path = Path(".keycase")
    database_url: str | None = None  # default: SQLite file in data_dir
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233  # the local stack's Temporal Web UI (dev server)
    # Origins whose pages may call the codec server ("a,b"); default: the local stack's UI.
    temporal_ui_origins: str | None = None
    temporal_http_port: int = 7243  # the local dev server's HTTP API
    temporal_metrics_port: int = 7244  # the local dev server's /metrics
    task_queue: str = "keycase"
    policy_file: Path | None = None  # default: the shipped policy
    api_tokens: SecretStr | None = None  # "role:name:token,..."; generated when unset
    # "id:base64key,...", newest first: it encrypts, all decrypt (rotate by prepending).
    # Unset: the key saved in data_dir (the local stack), generated on first use.
    payload_keys: SecretStr | None = None
    # Base64 Ed25519 seed that signs the audit chain's anchors; unset: saved in data_dir.
    anchor_signing_key: SecretStr | None = None
    # How often the chain's head is signed and anchored (a Temporal Schedule).
    anchor_every: timedelta = Field(default=timedelta(hours=1), gt=timedelta(0))
    # Off only to measure what encryption costs (bench/); decoding plain payloads always works.
    payload_encryption: bool = True
    # Per token, calls a second and burst; 0 turns a limit off. A flood guard, well above
    # what surveillance and a gateway send (the benchmarks' intake stays below it).
    alerts_per_second: float = Field(default=1000, ge=0)
    alerts_burst: int = Field(default=2000, ge=1)
    authorize_per_second: float = Field(default=10000, ge=0)
    authorize_burst: int = Field(default=20000, ge=1)
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"  # what providers call back (webhooks)
    # How far in the future an alert's observed_at may lie (surveillance clocks drift a bit).
    alert_clock_skew: timedelta = Field(default=timedelta(minutes=5), ge=timedelta(0))

    # How long a notice in doubt at SendGrid (5xx, timeout, a worker lost mid-call) waits for
    # evidence of the earlier attempt before it is sent again (its activity feed lags).
    notice_settle_window: timedelta = Field(default=timedelta(minutes=10), gt=timedelta(0))

    # Outcomes back to surveillance: with both set, the worker pushes each outcome here,
    # signed with the secret (README "Tuning the policy and outcomes to surveillance").
    outcome_webhook_url: str | None = None
    outcome_webhook_secret: SecretStr | None = None
    outcome_push_retry_initial: timedelta = Field(default=timedelta(seconds=1), gt=timedelta(0))
    outcome_push_retry_max: timedelta = Field(default=timedelta(minutes=5), gt=timedelta(0))
    outcome_push_drain: timedelta = Field(default=timedelta(minutes=1), gt=timedelta(0))

    sendgrid_api_key: SecretStr | None = None
    sendgrid_from_email: str = "no-reply@keycase.invalid"
    sendgrid_host: str | None = None  # override for tests and proxies
    sendgrid_webhook_public_key: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_base_url: str | None = None  # override for tests and proxies

    # Each cached case costs the worker ~250 KB; 2,000 took a worker to 655 MB with 10,000
    # open cases. Cache the cases that are busy, not every case that sleeps for days.
    max_cached_workflows: int = Field(default=1000, ge=10)
    # The workflow sandbox rebuilds module state for each case and swaps restricted modules
    # in and out on every activation: about a quarter of the worker's CPU per case. The
    # workflow tests run the same code inside the sandbox, which is where a non-deterministic
    # call gets caught; turn it on here to run production workers inside it as well.
    workflow_sandbox: bool = False
    # Prometheus (host:port each; unset: not served). The API serves its own on GET /metrics.
    worker_sdk_metrics_address: str | None = None  # the Temporal SDK's runtime metrics
    worker_metrics_address: str | None = None  # keycase's own (notices by channel)

    @property
    def codec_origins(self) -> frozenset[str]:
        """Browser origins the codec server answers (the Temporal UI's)."""
        if self.temporal_ui_origins is not None:
            return frozenset(o.strip() for o in self.temporal_ui_origins.split(",") if o.strip())
        port = self.temporal_ui_port
        return frozenset({f"http://127.0.0.1:{port}", f"http://localhost:{port}"})

    @property
    def outcome_webhook(self) -> tuple[str, str] | None:
        """The webhook's URL and secret when both are configured."""
        if not self.outcome_webhook_url or self.outcome_webhook_secret is None:
            return None
        return self.outcome_webhook_url, self.outcome_webhook_secret.get_secret_value()

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'keycase.db'}"
