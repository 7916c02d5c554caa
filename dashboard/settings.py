"""What a dashboard instance is configured with: where the store lives, limits, the base recipe."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from model import DEFAULT, TrainConfig, check_log_level, default_cache_dir

DEFAULT_STATIONS = ("Cairns", "Canberra", "Darwin", "GoldCoast", "MountGinini")


@dataclass(frozen=True)
class Settings:
    """One dashboard's configuration.

    Args:
        cache_dir: the store folder (trained networks, uploaded data sets, background jobs).
        redis_url: Redis for Celery (broker and result backend); None runs training jobs with
            diskcache in the store's jobs folder.
        base_config: the recipe the retrain form edits; fields not on the form come from it.
        max_upload_mb: largest accepted upload, checked before decoding.
        uploads_quota_mb: the most the uploads folder keeps; the least recently used uploads
            are removed to make room for a new one.
        upload_max_age_days: an upload no session has used for this long is removed.
        use_shipped: also offer the default model shipped in dashboard/data/shipped/.
        log_level: the level of the process's log (DEBUG, INFO, WARNING, ERROR, CRITICAL).
        max_trainings: how many trainings run at once on this store; the rest wait in a queue.
        job_grace_seconds: a training whose page has sent nothing for this long is stopped.
        operator_token: signs a browser in as the operator at /operator, who may delete any
            model from the page; None: only the command line deletes others' models.
        secret_key: signs the session cookies; None: a key made once in the store folder.
        behind_proxy: trust the X-Forwarded-For and X-Forwarded-Proto headers of one reverse
            proxy in front (the client's address, https); never set it without such a proxy.
    """

    cache_dir: Path = field(default_factory=default_cache_dir)
    redis_url: str | None = None
    base_config: TrainConfig = DEFAULT
    max_upload_mb: float = 20.0
    uploads_quota_mb: float = 500.0
    upload_max_age_days: float = 30.0
    use_shipped: bool = True
    default_stations: tuple[str, ...] = DEFAULT_STATIONS
    log_level: str = "INFO"
    max_trainings: int = field(default_factory=lambda: os.cpu_count() or 1)
    job_grace_seconds: float = 60.0
    operator_token: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    behind_proxy: bool = False

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from the environment, the one road to every process (web, worker).

        An unset variable leaves the field's default above.
        TEMPERATURE_FORECAST_CACHE: the store folder (cache_dir).
        REDIS_URL: Celery's broker and result backend (redis_url).
        TEMPERATURE_FORECAST_MAX_UPLOAD_MB: the upload limit in MB (max_upload_mb).
        TEMPERATURE_FORECAST_UPLOADS_QUOTA_MB: the uploads folder's quota (uploads_quota_mb).
        TEMPERATURE_FORECAST_UPLOAD_MAX_AGE_DAYS: days after which an unused upload is removed
            (upload_max_age_days).
        TEMPERATURE_FORECAST_LOG_LEVEL: the log level (log_level).
        TEMPERATURE_FORECAST_MAX_TRAININGS: trainings at once (max_trainings).
        TEMPERATURE_FORECAST_JOB_GRACE_S: seconds a training runs on unpolled (job_grace_seconds).
        TEMPERATURE_FORECAST_OPERATOR_TOKEN: the operator's token (operator_token).
        TEMPERATURE_FORECAST_SECRET_KEY: the session cookies' key (secret_key).
        TEMPERATURE_FORECAST_BEHIND_PROXY: 1 behind a reverse proxy (behind_proxy).
        """
        default = cls()
        level = os.environ.get("TEMPERATURE_FORECAST_LOG_LEVEL", default.log_level)
        return cls(
            cache_dir=default.cache_dir,
            redis_url=os.environ.get("REDIS_URL") or default.redis_url,
            max_upload_mb=_positive(
                "TEMPERATURE_FORECAST_MAX_UPLOAD_MB", default.max_upload_mb, "MB"
            ),
            uploads_quota_mb=_positive(
                "TEMPERATURE_FORECAST_UPLOADS_QUOTA_MB", default.uploads_quota_mb, "MB"
            ),
            upload_max_age_days=_positive(
                "TEMPERATURE_FORECAST_UPLOAD_MAX_AGE_DAYS", default.upload_max_age_days, "days"
            ),
            log_level=check_log_level(level, "TEMPERATURE_FORECAST_LOG_LEVEL"),
            max_trainings=_count("TEMPERATURE_FORECAST_MAX_TRAININGS", default.max_trainings),
            job_grace_seconds=_positive(
                "TEMPERATURE_FORECAST_JOB_GRACE_S", default.job_grace_seconds, "seconds"
            ),
            operator_token=os.environ.get("TEMPERATURE_FORECAST_OPERATOR_TOKEN")
            or default.operator_token,
            secret_key=os.environ.get("TEMPERATURE_FORECAST_SECRET_KEY") or default.secret_key,
            behind_proxy=_flag("TEMPERATURE_FORECAST_BEHIND_PROXY"),
        )

    @property
    def uploads_dir(self) -> Path:
        return Path(self.cache_dir) / "uploads"

    @property
    def jobs_dir(self) -> Path:
        return Path(self.cache_dir) / "jobs"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def uploads_quota_bytes(self) -> int:
        return int(self.uploads_quota_mb * 1024 * 1024)


def _positive(variable: str, default: float, unit: str) -> float:
    """A positive finite number from an environment variable, or ValueError naming it."""
    text = os.environ.get(variable, f"{default:g}")
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if not 0 < number < float("inf"):
        raise ValueError(f"{variable} ({text!r}) is not a positive number of {unit}")
    return number


def _count(variable: str, default: int) -> int:
    """A positive whole number from an environment variable, or ValueError naming it."""
    number = _positive(variable, default, "trainings")
    if not number.is_integer():
        raise ValueError(f"{variable} ({os.environ[variable]!r}) is not a whole number")
    return int(number)


def _flag(variable: str) -> bool:
    """Yes or no from an environment variable (1, true, yes; 0, false, no, unset)."""
    text = os.environ.get(variable, "0")
    if text.strip().lower() in ("1", "true", "yes"):
        return True
    if text.strip().lower() in ("0", "false", "no", ""):
        return False
    raise ValueError(f"{variable} ({text!r}) is not 1 or 0")
