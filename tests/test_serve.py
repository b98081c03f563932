"""``playbook serve`` and ``playbook discord``: clear start-up errors, command registration."""

from tests.adapters.fake_discord import APP_ID, GUILD_ID, TOKEN, FakeDiscord
from tests.adapters.fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.helpers import ThreadedFake, run


def test_missing_signing_secret_is_named(workdir):
    result = run(workdir, "serve", env={"SLACK_BOT_TOKEN": "xoxb-1"})
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_token_is_named_without_echoing_it(workdir):
    result = run(workdir, "serve", env={"SLACK_BOT_TOKEN": "secret-value-123"})
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN must be the app's Bot User OAuth Token" in result.stderr
    assert "secret-value-123" not in result.stderr


def test_refused_token_exits_non_zero(workdir):
    with ThreadedFake(FakeSlack) as slack:
        slack.fake.fail("auth.test", 200, {"ok": False, "error": "invalid_auth"})
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.fake.api_url,
        }
        result = run(workdir, "serve", env=env)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN was refused by Slack (invalid_auth)" in result.stderr
    assert BOT_TOKEN not in result.stderr


def test_discord_invite_and_sync_need_credentials(workdir):
    invite = run(workdir, "discord", "invite", env={"DISCORD_APPLICATION_ID": "123456"})
    assert invite.returncode == 0
    assert invite.stdout.strip() == (
        "https://discord.com/oauth2/authorize?client_id=123456"
        "&scope=bot+applications.commands&permissions=274877991936"
    )
    sync = run(workdir, "discord", "sync")
    assert sync.returncode == 2
    assert "DISCORD_TOKEN is not set" in sync.stderr


def test_discord_sync_and_refused_token(workdir):
    with ThreadedFake(FakeDiscord) as discord:
        fake = discord.fake
        env = {
            "DISCORD_TOKEN": TOKEN,
            "DISCORD_API_URL": fake.api_url,
            "DISCORD_GATEWAY_URL": fake.gateway_url,
        }
        synced = run(workdir, "discord", "sync", "--guild", GUILD_ID, env=env)
        assert synced.returncode == 0, synced.stderr
        assert f"Registered /ask, /checklist, /playbook in guild {GUILD_ID}." in synced.stdout
        assert fake.of(f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands", "PUT")
        fake.refuse_token = True
        served = run(workdir, "serve", env=env)
    assert served.returncode == 2
    assert "DISCORD_TOKEN was refused by Discord." in served.stderr
    assert TOKEN not in served.stderr
