"""Settings: typed, validated, secrets from the environment only."""

import pytest

from mas.settings import SettingsError, load_settings


def test_development_defaults_keep_a_generated_secret(tmp_path):
    first = load_settings(environ={}, instance_dir=tmp_path)
    second = load_settings(environ={}, instance_dir=tmp_path)
    assert first.env == "development"
    assert first.database_url == f"sqlite:///{tmp_path}/mas.sqlite3"
    assert len(first.secret_key) >= 32 and first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first.base_url == "http://127.0.0.1:5000"


def test_environment_wins(tmp_path):
    s = load_settings(environ={"MAS_DATABASE_URL": "postgresql://x@db/mas", "MAS_BASE_URL": "https://mas.example.nl/",
                               "MAS_SECRET_KEY": "k" * 40, "MAS_INSTANCE_DIR": str(tmp_path)})
    assert (s.database_url, s.base_url, s.secret_key) == ("postgresql://x@db/mas", "https://mas.example.nl", "k" * 40)
    assert "k" * 40 not in repr(s)


@pytest.mark.parametrize("secret", ["", "short", "a" * 64])
def test_production_refuses_a_missing_or_weak_secret(tmp_path, secret):
    with pytest.raises(SettingsError, match="MAS_SECRET_KEY"):
        load_settings(environ={"MAS_ENV": "production", "MAS_SECRET_KEY": secret, "MAS_BASE_URL": "https://m.nl"},
                      instance_dir=tmp_path)
    assert not (tmp_path / "secret_key").exists()


def test_production_accepts_a_strong_secret_and_needs_https(tmp_path):
    strong = "Zx81-kq0Pf3_Lm7aQw9Vn2Bc5Ty4Hj6Ue0Rs"
    s = load_settings(environ={"MAS_ENV": "production", "MAS_SECRET_KEY": strong, "MAS_BASE_URL": "https://m.nl"},
                      instance_dir=tmp_path)
    assert s.is_production
    with pytest.raises(SettingsError, match="https"):
        load_settings(environ={"MAS_ENV": "production", "MAS_SECRET_KEY": strong, "MAS_BASE_URL": "http://m.nl"},
                      instance_dir=tmp_path)


def test_unknown_environment_is_refused(tmp_path):
    with pytest.raises(SettingsError, match="MAS_ENV"):
        load_settings(environ={"MAS_ENV": "staging"}, instance_dir=tmp_path)


def test_clock_config_is_validated(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "mas.toml").write_text('default_region = "midden"\n')
    (config / "vakantieregio.toml").write_text("[region]\nnoord = []\n")
    (config / "clocks.toml").write_text("[clock.signaal]\nschool_days = 5\ncalendar_months = 1\n")
    with pytest.raises(SettingsError, match=r"clock\.signaal.*exactly one"):
        load_settings(environ={}, instance_dir=tmp_path, config_dir=config)
    (config / "clocks.toml").write_text("[clock.signaal]\nschool_days = -1\n")
    with pytest.raises(SettingsError, match="whole number"):
        load_settings(environ={}, instance_dir=tmp_path, config_dir=config)
    (config / "clocks.toml").write_text("[state.signaal]\nschool_days = 5\n")  # the layout before 0.2
    with pytest.raises(SettingsError, match=r"unknown section\(s\) state"):
        load_settings(environ={}, instance_dir=tmp_path, config_dir=config)


def test_region_and_terminology_come_from_config(tmp_path):
    s = load_settings(environ={}, instance_dir=tmp_path)
    assert s.region_for("Maastricht") == "zuid" and s.region_for("groningen") == "noord"
    assert s.region_for("Nergenshuizen") == s.default_region == "midden"
    assert s.term("leerplichtambtenaar") == "leerplichtambtenaar"
    assert (s.clocks["gesprek"].unit, s.clocks["gesprek"].amount) == ("school_days", 10)
    assert (s.clocks["thuiszitterspact"].unit, s.clocks["thuiszitterspact"].amount) == ("calendar_months", 3)
