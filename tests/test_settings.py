"""Settings: typed, validated, secrets from the environment only."""

import re
from datetime import date

import pytest

from mas.context import make_context
from mas.settings import SHIPPED_CONFIG_DIR, SettingsError, config_file, load_settings


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


# -- MAS_CONFIG_DIR: a file there replaces the shipped file of the same name, and only that one --

def _everything(tmp_path, environ):
    """Settings and what start-up reads besides them (calendar, ladders): every config file."""
    settings = load_settings(environ=environ, instance_dir=tmp_path / "instance")
    return settings, make_context(settings)


def test_a_file_in_mas_config_dir_replaces_only_the_shipped_file_of_that_name(tmp_path):
    shipped_settings, shipped = _everything(tmp_path, {})
    own = tmp_path / "config"
    own.mkdir()
    (own / "mas.toml").write_text('default_region = "noord"\n[terminology]\nleerplichtambtenaar = "leerrechtondersteuner"\n')

    settings, ctx = _everything(tmp_path, {"MAS_CONFIG_DIR": str(own)})

    assert config_file(own, "mas.toml") == own / "mas.toml"
    assert config_file(own, "clocks.toml") == SHIPPED_CONFIG_DIR / "clocks.toml"
    # mas.toml is the team's own ...
    assert settings.default_region == "noord" and settings.region_for("Nergenshuizen") == "noord"
    assert settings.term("leerplichtambtenaar") == "leerrechtondersteuner"
    assert settings.term("casusregisseur") == "casusregisseur"  # the shipped mas.toml's terms are gone with it
    # ... and every other file is the shipped one.
    assert settings.clocks == shipped_settings.clocks
    assert settings.municipality_regions == shipped_settings.municipality_regions
    assert ctx.calendar.version == shipped.calendar.version
    assert (ctx.ladders.by_name, ctx.ladders.window) == (shipped.ladders.by_name, shipped.ladders.window)


def test_a_school_holiday_table_in_mas_config_dir_replaces_the_shipped_table_only(tmp_path):
    shipped_settings, shipped = _everything(tmp_path, {})
    own = tmp_path / "config"
    own.mkdir()
    table = config_file(None, "school_holidays.toml").read_text(encoding="utf-8")
    moved = table.replace("first = 2025-10-11\nlast = 2025-10-19", "first = 2025-10-18\nlast = 2025-10-26", 1)
    assert moved != table
    (own / "school_holidays.toml").write_text(moved, encoding="utf-8")

    settings, ctx = _everything(tmp_path, {"MAS_CONFIG_DIR": str(own)})

    assert ctx.calendar.version != shipped.calendar.version
    # Zuid's autumn holiday moved a week later: Monday 20 October 2025 is in it now.
    assert shipped.calendar.is_school_day(date(2025, 10, 20), "zuid")
    assert not ctx.calendar.is_school_day(date(2025, 10, 20), "zuid")
    assert (settings.clocks, settings.default_region) == (shipped_settings.clocks, shipped_settings.default_region)


@pytest.mark.parametrize("name", sorted(p.name for p in SHIPPED_CONFIG_DIR.glob("*.toml")))
def test_every_shipped_file_is_read_from_mas_config_dir_first(tmp_path, name):
    """A broken copy of any one shipped file in MAS_CONFIG_DIR stops start-up, naming that copy:
    whoever reads the file reads it through mas.settings.config_file."""
    own = tmp_path / "config"
    own.mkdir()
    (own / name).write_text("dit = is geen [toml\n")
    with pytest.raises(ValueError, match=re.escape(str(own / name))):  # SettingsError is a ValueError
        _everything(tmp_path, {"MAS_CONFIG_DIR": str(own)})


def test_a_missing_mas_config_dir_or_a_file_that_replaces_nothing_is_refused(tmp_path):
    with pytest.raises(SettingsError, match="MAS_CONFIG_DIR .* is not a directory"):
        load_settings(environ={"MAS_CONFIG_DIR": str(tmp_path / "bestaat-niet")}, instance_dir=tmp_path)
    own = tmp_path / "config"
    own.mkdir()
    (own / "clock.toml").write_text("[case]\nthuiszitterspact_months = 2\n")  # a typo for clocks.toml
    with pytest.raises(SettingsError, match=r"clock\.toml replaces no shipped configuration file"):
        load_settings(environ={"MAS_CONFIG_DIR": str(own)}, instance_dir=tmp_path)


def test_the_mail_settings_and_the_ladders_come_from_mas_config_dir_file_by_file(tmp_path):
    """Issue 12's config (mas.toml [mail], escalation.toml's names, window and fallback chain) is
    read through config_file like the rest: a file in MAS_CONFIG_DIR replaces that file only."""
    shipped_settings, shipped = _everything(tmp_path, {})
    own = tmp_path / "config"
    own.mkdir()
    (own / "mas.toml").write_text('default_region = "midden"\n[mail]\nmailbox = "leerplicht@example.org"\n'
                                  "max_age_working_days = 5\n")
    settings, ctx = _everything(tmp_path, {"MAS_CONFIG_DIR": str(own)})
    assert (settings.mail.functional_mailbox, settings.mail.max_age_working_days) == ("leerplicht@example.org", 5)
    assert shipped_settings.mail.functional_mailbox is None
    assert (ctx.ladders.describe(), ctx.ladders.fallback) == (shipped.ladders.describe(), shipped.ladders.fallback)

    shipped_chain = 'chain = ["coordinator", "functional_mailbox", "admins"]'
    text = (SHIPPED_CONFIG_DIR / "escalation.toml").read_text()
    assert shipped_chain in text and 'name = "bestuur"' in text
    (own / "escalation.toml").write_text(text.replace(shipped_chain, 'chain = ["admins"]')
                                         .replace('name = "bestuur"', 'name = "wethouder"'))
    settings, ctx = _everything(tmp_path, {"MAS_CONFIG_DIR": str(own)})
    assert ctx.ladders.fallback == ("admins",)
    assert ctx.ladders.get("state").levels[-1].name == "wethouder"
    assert settings.mail.functional_mailbox == "leerplicht@example.org"  # still the own mas.toml

    (own / "mas.toml").write_text('[mail]\nmailbox = "geen adres"\n')
    with pytest.raises(SettingsError, match=re.escape(str(own / "mas.toml"))):
        load_settings(environ={"MAS_CONFIG_DIR": str(own)}, instance_dir=tmp_path)
