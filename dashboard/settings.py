"""What a dashboard instance is configured with: where the store lives, limits, the base recipe."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from model import DEFAULT, TrainConfig, default_cache_dir

DEFAULT_STATIONS = ("Cairns", "Canberra", "Darwin", "GoldCoast", "MountGinini")


@dataclass(frozen=True)
class Settings:
    """One dashboard's configuration.

    Args:
        cache_dir: the store folder (trained networks, uploaded data sets, background jobs).
        base_config: the recipe the retrain form edits; fields not on the form come from it.
        max_upload_mb: largest accepted upload, checked before decoding.
        use_shipped: also offer the default model shipped in dashboard/shipped/.
    """

    cache_dir: Path = field(default_factory=default_cache_dir)
    base_config: TrainConfig = DEFAULT
    max_upload_mb: float = 20.0
    use_shipped: bool = True
    default_stations: tuple[str, ...] = DEFAULT_STATIONS

    @property
    def uploads_dir(self) -> Path:
        return Path(self.cache_dir) / "uploads"

    @property
    def jobs_dir(self) -> Path:
        return Path(self.cache_dir) / "jobs"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
