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
