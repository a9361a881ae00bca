"""The app manifest people paste into Slack matches what the code does."""

from __future__ import annotations

from pathlib import Path

import yaml

from adapters.slack.service import BOT_SCOPES, EVENTS_PATH

MANIFEST = Path(__file__).parents[2] / "config" / "slack-manifest.yaml"


def test_the_manifest_asks_for_what_the_bot_uses() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/retro"
    assert command["url"].endswith(EVENTS_PATH)
    assert manifest["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "app_uninstalled",
        "tokens_revoked",
    }
    assert settings["event_subscriptions"]["request_url"].endswith(EVENTS_PATH)
    assert settings["interactivity"] == {"is_enabled": True, "request_url": command["url"]}
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")
    assert settings["socket_mode_enabled"] is False
