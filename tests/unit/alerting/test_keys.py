"""Alert keys are built in alerting/keys.py: their text is stored (alerts, the outbox) and sent (PagerDuty's
dedup_key), so it must not change; the rule a key reads back as is the rule it was built from."""

from __future__ import annotations

import pytest

from include.monitoring.alerting import keys


def test_alert_key_joins_model_rule_column_and_slice_as_stored():
    assert keys.alert_key("credit_default", "drift:feature_drift", "income", "") == "credit_default:drift:feature_drift:income:"
    assert keys.alert_key("m", "performance:recall", "", keys.slice_part("region", "EU")) == "m:performance:recall::region=EU"
    assert keys.slice_part("", "") == ""


def test_digest_and_drill_keys_keep_their_stored_and_sent_text():
    assert keys.digest_key("m") == "m:digest:info::"
    assert keys.drill_key("m", "slack:#team-risk") == "m:fire-drill:slack:#team-risk"


@pytest.mark.parametrize(("key", "rule"), [
    (keys.alert_key("m", "drift:feature_drift", "income", ""), "drift:feature_drift"),
    (keys.alert_key("m", "quality:null_rate", "a:b", "region=x:y"), "quality:null_rate"),
    (keys.digest_key("m"), "digest:info"),
    (keys.drill_key("m", "pagerduty"), keys.drill_rule("pagerduty")),
    (keys.drill_key("m", "slack:#team-risk"), keys.drill_rule("slack")),
], ids=["feature_drift", "colons_in_column_and_slice", "digest", "pagerduty_drill", "team_slack_drill"])
def test_rule_from_key_gives_back_the_rule_the_key_was_built_from(key, rule):
    assert keys.rule_from_key("m", key) == rule


def test_a_slices_key_reads_as_a_slice_of_its_whole_windows_key_and_of_its_kind():
    window = keys.alert_key("m", "performance:recall", "", "")
    eu = keys.alert_key("m", "performance:recall", "", keys.slice_part("region", "EU"))
    assert keys.is_slice_of(eu, window) and not keys.is_slice_of(window, window) and not keys.is_slice_of(window, eu)
    assert keys.is_slice_of_kind(eu, "performance") and not keys.is_slice_of_kind(eu, "drift")
    assert not keys.is_slice_of_kind(window, "performance")
