"""`make run`'s banner: where to look once the demo is up."""

from __future__ import annotations

from datetime import UTC, datetime


def test_banner_names_the_model_health_address_the_plugin_serves(capsys):
    from include.monitoring.ui.views import URL_PREFIX
    from scripts.run_local import print_banner

    start = datetime(2026, 12, 4, 10, tzinfo=UTC)
    print_banner("http://localhost:8097", "secret", (start, start.replace(hour=11)), start.replace(hour=12))
    banner = capsys.readouterr().out
    # the plugin's nav entry points at the same page (tests/e2e/model_health/test_access.py)
    assert f"Model health: http://localhost:8097{URL_PREFIX}/fleet" in banner
    assert "Browse > Model health" in banner
