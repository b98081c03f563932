from pathlib import Path

import pytest

from bot.config import AUTO_PORT, Settings, effective_config


def test_environment_wins_over_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# comment\nPLAYBOOK_BASE_URL='https://from-file.example'\n"
        "export PLAYBOOK_TOP_K=5\nPLAYBOOK_KNOWLEDGE_DIR=docs\n"
    )
    settings = Settings.from_env({"PLAYBOOK_KNOWLEDGE_DIR": "kb"}, env_file=env_file)
    assert settings.base_url == "https://from-file.example"
    assert settings.top_k == 5
    assert settings.knowledge_dir == Path("kb")
    assert settings.index_dir == Path(".playbook/index")
    assert settings.embedder == "use+e5"


def test_bad_number_names_the_variable(tmp_path):
    with pytest.raises(ValueError, match="PLAYBOOK_TOP_K must be a whole number, got 'three'"):
        Settings.from_env({"PLAYBOOK_TOP_K": "three"}, env_file=None)


def test_the_health_port_is_a_number_off_or_auto():
    def health(raw: str) -> int:
        return Settings.from_env({"PLAYBOOK_HEALTH_PORT": raw}, env_file=None).health_port

    assert health("9191") == 9191
    assert health("0") == 0  # off
    assert health("auto") == health(" AUTO ") == AUTO_PORT
    auto = Settings.from_env({"PLAYBOOK_HEALTH_PORT": "auto"}, env_file=None)
    assert ("PLAYBOOK_HEALTH_PORT", "auto") in effective_config(auto, {})
    with pytest.raises(ValueError, match="PLAYBOOK_HEALTH_PORT must be a port number or auto"):
        health("any")


def test_the_re_ranker_is_off_unless_named():
    """No cross-encoder by default (the composition root builds none); a name and how many
    passages it reads come from PLAYBOOK_RERANKER and PLAYBOOK_RERANK_TOP."""
    from bot.app import open_reranker

    default = Settings.from_env({}, env_file=None)
    assert (default.reranker, default.rerank_top) == ("", 20)
    assert open_reranker(default) is None
    named = Settings.from_env(
        {"PLAYBOOK_RERANKER": "/models/my-cross-encoder", "PLAYBOOK_RERANK_TOP": "8"},
        env_file=None,
    )
    assert (named.reranker, named.rerank_top) == ("/models/my-cross-encoder", 8)
    assert ("PLAYBOOK_RERANKER", "/models/my-cross-encoder") in effective_config(named, {})
    with pytest.raises(ValueError, match="PLAYBOOK_RERANK_TOP must be a whole number"):
        Settings.from_env({"PLAYBOOK_RERANK_TOP": "all"}, env_file=None)


def test_the_slack_endpoint_host_and_port_are_settings():
    """PLAYBOOK_HOST and PLAYBOOK_PORT are read (and checked) like every other setting."""

    def read(**env: str) -> Settings:
        return Settings.from_env({f"PLAYBOOK_{k.upper()}": v for k, v in env.items()}, None)

    assert (read().host, read().port) == ("127.0.0.1", 3000)
    chosen = read(host="0.0.0.0", port="8080")
    assert (chosen.host, chosen.port) == ("0.0.0.0", 8080)
    assert read(port="0").port == 0  # a free port, logged
    assert ("PLAYBOOK_PORT", "8080") in effective_config(chosen, {})
    with pytest.raises(ValueError, match="PLAYBOOK_PORT must be a whole number, got 'http'"):
        read(port="http")
    with pytest.raises(ValueError, match=r"PLAYBOOK_PORT must be a port number \(0 to 65535\)"):
        read(port="70000")
    with pytest.raises(ValueError, match="PLAYBOOK_HEALTH_PORT must be a port number"):
        read(health_port="99999")


def test_debug_is_a_true_or_false_setting():
    def debug(raw: str) -> bool:
        return Settings.from_env({"PLAYBOOK_DEBUG": raw}, env_file=None).debug

    assert Settings.from_env({}, env_file=None).debug is False
    assert debug("1") and debug("true")
    assert not debug("0") and not debug("no")
    with pytest.raises(ValueError, match="PLAYBOOK_DEBUG must be true or false, got 'loud'"):
        debug("loud")


def _serve_args(monkeypatch, tmp_path, env: dict[str, str], *argv: str) -> dict:
    """What ``playbook serve ARGV`` hands to the server, with ``env`` as the environment."""
    import bot.serve

    monkeypatch.chdir(tmp_path)
    for name in ("PLAYBOOK_HOST", "PLAYBOOK_PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    seen: dict = {}

    def fake_serve(settings, **kwargs):
        seen.update(kwargs)
        return 0

    monkeypatch.setattr(bot.serve, "serve", fake_serve)
    from bot.cli import main

    assert main(["serve", *argv]) == 0
    return seen


def test_serve_listens_where_the_settings_say_unless_told(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("PLAYBOOK_PORT=4100\n")  # .env is read too
    seen = _serve_args(monkeypatch, tmp_path, {"PLAYBOOK_HOST": "0.0.0.0"})
    assert (seen["host"], seen["port"]) == ("0.0.0.0", 4100)
    seen = _serve_args(monkeypatch, tmp_path, {}, "--host", "::1", "--port", "0")
    assert (seen["host"], seen["port"]) == ("::1", 0)


def test_a_bad_port_is_one_line_not_a_traceback(monkeypatch, tmp_path, capsys):
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLAYBOOK_PORT", "abc")
    assert main(["config"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "playbook: PLAYBOOK_PORT must be a whole number, got 'abc'"


def test_debug_shows_the_traceback_of_an_unexpected_error(monkeypatch, tmp_path, capsys):
    import bot.cli

    def broken(args, settings):
        raise RuntimeError("boom")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(bot.cli, "cmd_config", broken)
    monkeypatch.setenv("PLAYBOOK_DEBUG", "0")
    assert bot.cli.main(["config"]) == 1
    assert "unexpected error (RuntimeError: boom)" in capsys.readouterr().err
    monkeypatch.setenv("PLAYBOOK_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        bot.cli.main(["config"])
