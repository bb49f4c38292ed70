"""Routes (`slack:#team-risk`) parse once into Route(kind, target); the notifier registry has a factory for every
channel kind a monitor file may route to, and each factory reads its own Airflow connection."""

from __future__ import annotations

import textwrap
from types import SimpleNamespace

import pytest

from include.monitoring.alerting.notifiers import NOTIFIERS, LogNotifier, PagerDutyNotifier, SlackNotifier
from include.monitoring.catalogue import CHANNELS, Route, RouteError
from include.monitoring.config import MonitorConfig, load_monitor_config
from include.monitoring.errors import ConfigError, ConnectionConfigError

MINIMAL = "features:\n  numeric: [age]\n  categorical: [region]\n"
CANDIDATES = ["log", "slack", "pagerduty", "slack:#team-risk", "slack:#", "slack:", "slack:team-risk", "email",
              "pagerduty:#oncall", "log:x", "Slack", ""]


@pytest.mark.parametrize(("text", "route"), [
    ("log", Route("log")),
    ("slack", Route("slack")),
    ("pagerduty", Route("pagerduty")),
    ("slack:#team-risk", Route("slack", "#team-risk")),
    ("slack:#a:b", Route("slack", "#a:b")),
], ids=["log", "slack", "pagerduty", "slack_team_channel", "slack_channel_with_a_colon"])
def test_route_parse_valid_route_gives_kind_and_target_and_prints_back_as_its_text(text, route):
    assert Route.parse(text) == route
    assert str(route) == text


@pytest.mark.parametrize(("text", "says"), [
    ("email", "unknown channel 'email'"),
    ("", "unknown channel ''"),
    ("Slack", "unknown channel 'Slack'"),
    ("slack:", "expected slack:#<name>"),
    ("slack:#", "expected slack:#<name>"),
    ("slack:team-risk", "expected slack:#<name>"),
    ("pagerduty:#oncall", "expected pagerduty alone"),
    ("log:debug", "expected log alone"),
], ids=["unknown_kind", "empty", "capitalised", "slack_colon_nothing", "slack_hash_nothing", "slack_without_hash",
        "pagerduty_with_target", "log_with_target"])
def test_route_parse_invalid_route_raises_a_config_error_saying_what_is_valid(text, says):
    with pytest.raises(RouteError, match=says) as raised:
        Route.parse(text)
    assert isinstance(raised.value, ConfigError)
    if "unknown" in says:
        assert str(list(CHANNELS)) in str(raised.value)


def test_notifiers_registry_has_one_factory_per_channel_kind_of_the_catalogue():
    assert set(NOTIFIERS) == set(CHANNELS)


@pytest.mark.parametrize(("digest", "accepted"), [("log", True), ("slack", True), ("slack:#risk-digest", True),
                                                   ("slack:#", False), ("pagerduty", False), ("email", False)])
def test_the_info_digest_takes_a_log_or_slack_route_parsed_like_the_tiers(tmp_path, digest, accepted):
    path = tmp_path / "m.yaml"
    path.write_text(MINIMAL + f'alerts:\n  info_digest: "{digest}"\n')
    if accepted:
        assert load_monitor_config(path).alerts.info_digest == digest
    else:
        with pytest.raises(ConfigError, match="alerts.info_digest"):
            load_monitor_config(path)


@pytest.mark.parametrize("text", CANDIDATES, ids=[c or "empty" for c in CANDIDATES])
def test_every_tier_route_a_monitor_file_accepts_parses_to_a_registered_kind(tmp_path, text):
    path = tmp_path / "m.yaml"
    path.write_text(MINIMAL + textwrap.dedent(f"""\
        alerts:
          critical: ["{text}"]
        """))
    try:
        config = load_monitor_config(path)
    except ConfigError:
        with pytest.raises(RouteError):  # what the config refuses, the parser refuses too
            Route.parse(text)
        return
    (route_text,) = config.alerts.critical
    assert Route.parse(route_text).kind in NOTIFIERS


def connection(conn_type: str, password: str = "secret-token", **extra):
    return SimpleNamespace(conn_id="c", conn_type=conn_type, password=password, host="", schema="", extra_dejson=extra)


def test_each_registered_factory_builds_its_notifier_from_its_own_connection():
    config = MonitorConfig(model="m")
    asked: list[str] = []

    def get(kind):
        def lookup(conn_id):
            asked.append(conn_id)
            return connection(kind)
        return lookup

    assert isinstance(NOTIFIERS["log"](Route("log"), config, get("none")), LogNotifier)
    assert isinstance(NOTIFIERS["slack"](Route("slack", "#team-risk"), config, get("slack")), SlackNotifier)
    assert isinstance(NOTIFIERS["pagerduty"](Route("pagerduty"), config, get("pagerduty_events")), PagerDutyNotifier)
    assert asked == [config.alerts.slack_conn_id, config.alerts.pagerduty_conn_id]  # the log needs none


@pytest.mark.parametrize(("kind", "conn_type", "expected"), [
    ("slack", "http", "['slack', 'slackwebhook']"),
    ("pagerduty", "slack", "['pagerduty_events']"),
], ids=["slack_on_an_http_connection", "pagerduty_on_a_slack_connection"])
def test_a_factory_given_a_connection_of_another_type_names_the_types_it_takes(kind, conn_type, expected):
    with pytest.raises(ConnectionConfigError, match=rf"type '{conn_type}'; expected one of {expected}".replace("[", r"\[")):
        NOTIFIERS[kind](Route(kind), MonitorConfig(model="m"), lambda conn_id: connection(conn_type))
