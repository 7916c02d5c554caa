"""The Dash dashboard: browse forecasts, compare stations, retrain from the page.

The web process never imports TensorFlow: it reads JSON records from the store, and training
runs as a background job in another process.
"""

from __future__ import annotations

from pathlib import Path

from dash import Dash

from .background import make_manager
from .layout import build_layout
from .settings import Settings
from .wiring import register

ASSETS = Path(__file__).resolve().parents[1] / "assets"
UPLOAD_OVERHEAD = 2  # base64 and JSON framing of an upload, before the server refuses it

__all__ = ["Settings", "create_app"]


def create_app(settings: Settings | None = None) -> Dash:
    """Build the Dash app; settings default to the per-user store and the default recipe."""
    settings = settings or Settings()
    Path(settings.cache_dir).mkdir(parents=True, exist_ok=True)
    app = Dash(
        __name__,
        title="Australian temperature forecasts",
        assets_folder=str(ASSETS),
        background_callback_manager=make_manager(settings),
        update_title=None,
    )
    app.server.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes * UPLOAD_OVERHEAD
    app.layout = build_layout(settings)
    register(app, settings)
    return app
