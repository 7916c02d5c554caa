"""Command line: `python -m dashboard [--host H] [--port P] [--debug] [--log-level L]`, or
`... build-default [--backtest]` (train the built-in models, and the default's backtest), or
`... export-gates` (write the encoder's weights of stored networks that have none). Other
settings come from the environment (`Settings.from_env()`).
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import logging
from pathlib import Path

from model import LOG_LEVELS, NETWORK, SERVED, Store, configure_logging, export_gates, gates_path

from .settings import Settings

log = logging.getLogger("dashboard")


def build_parser() -> argparse.ArgumentParser:
    """Options of the server, and the build-default command."""
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    parser.add_argument(
        "command",
        nargs="?",
        choices=("serve", "build-default", "export-gates"),
        default="serve",
        help="serve the page (default), regenerate the shipped built-in models, or write the "
        "gates file of every built-in or stored network that lacks one (no training)",
    )
    parser.add_argument(
        "--backtest",
        action="store_true",
        help="build-default: only the default's backtest (its earlier cutoffs), the models kept",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument(
        "--debug", action="store_true", help="Dash debug mode (reloader, dev tools)"
    )
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        help="default: $TEMPERATURE_FORECAST_LOG_LEVEL, else INFO",
    )
    return parser


def warn_if_public(host: str) -> bool:
    """Warn on stderr when the development server would answer other machines; True if so."""
    if host == "localhost" or _is_loopback_address(host):
        return False
    log.warning(
        "python -m dashboard --host %s: other machines can reach this development "
        "server, which is not for production; see the Production section of README.md "
        "(gunicorn behind a reverse proxy)",
        host,
    )
    return True


def _is_loopback_address(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost, or "" (every interface)
        return False


def missing_gates(settings: Settings) -> list[Path]:
    """Write the gates file of each entry of the shipped and the user's store that has none."""
    from .data.shipped import shipped_store

    written = []
    for store in (shipped_store(), Store(settings.cache_dir)):
        for record in store.entries():
            if not gates_path(store.folder, record.key).is_file():
                written.append(export_gates(store, record.key))
    return written


def main(argv: list[str] | None = None) -> int:
    """Serve the dashboard, or rebuild dashboard/data/shipped/ from the default config."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as error:
        parser.error(str(error))
    if args.log_level:
        settings = dataclasses.replace(settings, log_level=args.log_level)
    configure_logging(settings.log_level)
    if args.command == "build-default":
        from .data.shipped import build_backtest, build_default

        for record in [] if args.backtest else build_default():
            served, network = (record.metrics[method].mae for method in (SERVED, NETWORK))
            print(
                f"shipped {record.key}: served MAE {served:.3f}, network {network:.3f}, "
                f"trained in {record.train_seconds:.0f} s"
            )
        result = build_backtest()  # after the models: its newest cutoff is the default
        print(
            f"shipped the default's backtest: cutoffs {', '.join(result.cutoffs)}, "
            f"{result.trained} trained, served MAE mean {result.mean[SERVED]:.3f}"
        )
        return 0
    if args.command == "export-gates":
        for path in missing_gates(settings):
            print(f"wrote {path}")
        return 0
    from . import create_app
    from .server.background import start_job_server
    from .server.serving import QuietHandler

    warn_if_public(args.host)
    log.info(
        "serving http://%s:%d/ from the store folder %s, training jobs in %s",
        args.host,
        args.port,
        settings.cache_dir,
        "Celery" if settings.redis_url else "diskcache",
    )
    app = create_app(settings)
    start_job_server(settings)
    app.run(host=args.host, port=args.port, debug=args.debug, request_handler=QuietHandler)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
