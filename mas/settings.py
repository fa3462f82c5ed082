"""One frozen, validated Settings object, read from the environment and config/.

Secrets only ever come from the environment (or, in development, from a key generated once
and kept in instance/). Everything else is a commented default in config/.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# The shipped defaults: the repository's top-level config/, which a wheel carries as mas/_config
# (setup.py); a checkout, editable or not, reads config/ itself.
SHIPPED_CONFIG_DIR = next((d for d in (PACKAGE_DIR / "_config", PACKAGE_DIR.parent / "config") if d.is_dir()),
                          PACKAGE_DIR / "_config")
ENVIRONMENTS = ("development", "test", "production")
REGIONS = ("noord", "midden", "zuid")
MIN_SECRET_LENGTH = 32


class SettingsError(ValueError):
    """The configuration is unusable; the message names the setting."""


@dataclass(frozen=True)
class ClockRule:
    """How a computed clock finds its due date: N school days or N calendar months from day 0.

    Which clock kinds exist, and what their day 0 is, is the workflow's business
    (mas.workflows.definition); config/clocks.toml gives each computed kind its amount.
    """

    kind: str
    unit: str  # "school_days" | "calendar_months"
    amount: int


CLOCK_UNITS = ("school_days", "calendar_months")


@dataclass(frozen=True)
class SmtpSettings:
    """Where e-mail goes. No host: messages are written to instance/mail/ (the demo)."""

    host: str | None
    port: int
    user: str | None
    password: str | None = field(repr=False)
    starttls: bool
    mail_from: str


@dataclass(frozen=True)
class MailSettings:
    """How mail is kept going (config/mas.toml [mail]); the SMTP server is SmtpSettings."""

    functional_mailbox: str | None = None  # fallback for a rung that reaches nobody
    max_age_working_days: int = 3  # a message not accepted by then is given up
    alert_after_minutes: int = 30  # mail failing this long: the scheduler logs it, admins see a banner
    status_link_days: int = 14  # how long a signed status link works


@dataclass(frozen=True)
class LoginSettings:
    """How logins are throttled (config/mas.toml [login]); all counted in the database, so
    every web worker shares them."""

    max_failed_logins: int = 5  # per account; the next attempt locks it
    lockout_minutes: int = 15  # an account's lock, and the window of the two limits below
    per_address: int = 30  # attempts per client address per window (a success gives its one back)
    overall: int = 1000  # attempts over all addresses per window
    trusted_proxies: int = 0  # reverse proxies in front of mas whose X-Forwarded-For is believed


@dataclass(frozen=True)
class InputSettings:
    """What input mas accepts (config/mas.toml [input])."""

    earliest_year: int = 1900  # no date before 1 January of this year
    years_ahead: int = 5  # no date later than this many years from today
    min_age: int = 4  # a youth younger than this at the report is refused
    max_age: int = 23  # older than this: past the end of RMC


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str
    secret_key: str = field(repr=False)
    base_url: str
    instance_dir: Path
    config_dir: Path  # MAS_CONFIG_DIR, else the shipped defaults: read a file through config_file()
    default_region: str
    clocks: Mapping[str, ClockRule]  # by clock kind
    municipality_regions: Mapping[str, str]
    terminology: Mapping[str, str]
    smtp: SmtpSettings
    mail: MailSettings = field(default_factory=MailSettings)
    # config/mas.toml [obligation]: weeks before a youth's obligation changes that the handover clock starts
    handover_weeks_before: int = 8
    login: LoginSettings = field(default_factory=LoginSettings)
    input: InputSettings = field(default_factory=InputSettings)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def term(self, key: str) -> str:
        """The team's word for a role, e.g. 'leerrechtondersteuner' for 'leerplichtambtenaar'."""
        return self.terminology.get(key, key)

    def region_for(self, municipality: str | None) -> str:
        """The vakantieregio of a municipality, or the default when the table does not know it."""
        if municipality:
            region = self.municipality_regions.get(municipality.strip().lower())
            if region:
                return region
        return self.default_region


def config_file(config_dir: Path | str | None, name: str) -> Path:
    """The configuration file `name` (e.g. "clocks.toml"): the one in `config_dir`
    (MAS_CONFIG_DIR) when it has one, else the shipped default of that name. A file in
    MAS_CONFIG_DIR replaces the shipped file of the same name, and only that file."""
    if config_dir is not None:
        local = Path(config_dir) / name
        if local.exists():
            return local
    return SHIPPED_CONFIG_DIR / name


def _check_config_dir(config_dir: Path) -> None:
    """MAS_CONFIG_DIR must exist, and each .toml in it must replace a shipped file: a typo
    ("clock.toml") would otherwise be ignored in silence."""
    if not config_dir.is_dir():
        raise SettingsError(f"MAS_CONFIG_DIR {config_dir} is not a directory")
    shipped = {p.name for p in SHIPPED_CONFIG_DIR.glob("*.toml")}
    for path in sorted(config_dir.glob("*.toml")):
        if path.name not in shipped:
            raise SettingsError(f"{path} replaces no shipped configuration file ({', '.join(sorted(shipped))})")


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"configuration file missing: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: {exc}") from None


def _parse_clocks(data: dict, path: Path) -> dict[str, ClockRule]:
    clocks: dict[str, ClockRule] = {}
    unknown = set(data) - {"clock"}
    if unknown:
        raise SettingsError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}; every rule is a [clock.<kind>]")
    for kind, spec in data.get("clock", {}).items():
        units = [u for u in CLOCK_UNITS if u in spec]
        if len(units) != 1 or set(spec) - set(CLOCK_UNITS):
            raise SettingsError(f"{path}: [clock.{kind}] needs exactly one of {', '.join(CLOCK_UNITS)}")
        amount = spec[units[0]]
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
            raise SettingsError(f"{path}: [clock.{kind}] {units[0]} must be a whole number >= 0")
        clocks[kind] = ClockRule(kind=kind, unit=units[0], amount=amount)
    return clocks


def _instance_secret(instance_dir: Path) -> str:
    """Development only: generate a secret once and keep it, so sessions survive restarts."""
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _parse_smtp(env_vars: Mapping[str, str], override: SmtpSettings | None) -> SmtpSettings:
    if override is not None:
        return override
    port_text = env_vars.get("MAS_SMTP_PORT", "25")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise SettingsError("MAS_SMTP_PORT must be a port number")
    starttls = env_vars.get("MAS_SMTP_STARTTLS", "false").lower()
    if starttls not in ("true", "false", "1", "0", "yes", "no"):
        raise SettingsError("MAS_SMTP_STARTTLS must be true or false")
    mail_from = env_vars.get("MAS_MAIL_FROM", "mas@localhost")
    if "@" not in mail_from:
        raise SettingsError("MAS_MAIL_FROM must be an e-mail address")
    return SmtpSettings(
        host=env_vars.get("MAS_SMTP_HOST") or None,
        port=int(port_text),
        user=env_vars.get("MAS_SMTP_USER") or None,
        password=env_vars.get("MAS_SMTP_PASSWORD") or None,
        starttls=starttls in ("true", "1", "yes"),
        mail_from=mail_from,
    )


def _parse_mail(general: dict, env_vars: Mapping[str, str], path: Path) -> MailSettings:
    spec = general.get("mail", {})
    unknown = set(spec) - {"mailbox", "max_age_working_days", "alert_after_minutes", "status_link_days"}
    if unknown:
        raise SettingsError(f"{path}: [mail] has unknown key(s) {', '.join(sorted(unknown))}")
    mailbox = (env_vars.get("MAS_FUNCTIONAL_MAILBOX") or spec.get("mailbox") or "").strip() or None
    if mailbox is not None and "@" not in mailbox:
        raise SettingsError(f"{path}: [mail] mailbox (or MAS_FUNCTIONAL_MAILBOX) must be an e-mail address")
    numbers = {}
    for key, default in (("max_age_working_days", 3), ("alert_after_minutes", 30), ("status_link_days", 14)):
        value = spec.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise SettingsError(f"{path}: [mail] {key} must be a whole number >= 1")
        numbers[key] = value
    return MailSettings(functional_mailbox=mailbox, **numbers)


def _whole_numbers(section: str, spec: dict, defaults, path: Path, minimum: int = 1, skip: tuple = ()) -> dict:
    """The whole numbers of one section of mas.toml, each >= `minimum`, no unknown keys."""
    names = {f.name: f.default for f in defaults.__dataclass_fields__.values()}
    unknown = set(spec) - set(names)
    names = {k: v for k, v in names.items() if k not in skip}
    if unknown:
        raise SettingsError(f"{path}: [{section}] has unknown key(s) {', '.join(sorted(unknown))}")
    numbers = {}
    for key, default in names.items():
        value = spec.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise SettingsError(f"{path}: [{section}] {key} must be a whole number >= {minimum}")
        numbers[key] = value
    return numbers


def _parse_login(general: dict, env_vars: Mapping[str, str], path: Path) -> LoginSettings:
    spec = dict(general.get("login", {}))
    proxies = env_vars.get("MAS_TRUSTED_PROXIES")
    if proxies is not None:
        if not (proxies.isascii() and proxies.isdigit() and len(proxies) <= 2 and int(proxies) <= 10):
            raise SettingsError("MAS_TRUSTED_PROXIES must be a whole number from 0 to 10 (0: no proxy)")
        spec["trusted_proxies"] = int(proxies)
    numbers = _whole_numbers("login", spec, LoginSettings, path, skip=("trusted_proxies",))
    trusted = spec.get("trusted_proxies", 0)
    if not isinstance(trusted, int) or isinstance(trusted, bool) or not 0 <= trusted <= 10:
        raise SettingsError(f"{path}: [login] trusted_proxies must be a whole number from 0 to 10")
    numbers["trusted_proxies"] = trusted
    return LoginSettings(**numbers)


def _parse_input(general: dict, path: Path) -> InputSettings:
    numbers = _whole_numbers("input", general.get("input", {}), InputSettings, path)
    if not 1 <= numbers["earliest_year"] <= 2000:
        raise SettingsError(f"{path}: [input] earliest_year must be a year no later than 2000")
    if numbers["min_age"] >= numbers["max_age"]:
        raise SettingsError(f"{path}: [input] min_age must be below max_age")
    return InputSettings(**numbers)


def load_settings(environ: Mapping[str, str] | None = None, **overrides) -> Settings:
    """Build Settings from the environment (MAS_*) and config/; keyword overrides win (tests)."""
    env_vars = os.environ if environ is None else environ
    env = overrides.pop("env", None) or env_vars.get("MAS_ENV", "development")
    if env not in ENVIRONMENTS:
        raise SettingsError(f"MAS_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    instance_dir = Path(overrides.pop("instance_dir", None) or env_vars.get("MAS_INSTANCE_DIR") or Path.cwd() / "instance")
    config_dir = Path(overrides.pop("config_dir", None) or env_vars.get("MAS_CONFIG_DIR") or SHIPPED_CONFIG_DIR)
    _check_config_dir(config_dir)

    database_url = overrides.pop("database_url", None) or env_vars.get("MAS_DATABASE_URL") or (
        f"sqlite:///{(instance_dir / 'mas.sqlite3').as_posix()}"
    )
    secret_key = overrides.pop("secret_key", None) or env_vars.get("MAS_SECRET_KEY", "")
    if env == "production":
        if len(secret_key) < MIN_SECRET_LENGTH or len(set(secret_key)) < 10:
            raise SettingsError(
                f"MAS_SECRET_KEY must be set to a random value of at least {MIN_SECRET_LENGTH} characters in production"
            )
    elif not secret_key:
        secret_key = _instance_secret(instance_dir) if env == "development" else secrets.token_urlsafe(32)

    base_url = (overrides.pop("base_url", None) or env_vars.get("MAS_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise SettingsError("MAS_BASE_URL must start with http:// or https://")
    if env == "production" and not base_url.startswith("https://"):
        raise SettingsError("MAS_BASE_URL must use https:// in production")

    general_path = config_file(config_dir, "mas.toml")
    general = _read_toml(general_path)
    default_region = general.get("default_region", "midden")
    if default_region not in REGIONS:
        raise SettingsError(f"{general_path}: default_region must be one of {', '.join(REGIONS)}")
    regions = {}
    regions_path = config_file(config_dir, "vakantieregio.toml")
    for region, municipalities in _read_toml(regions_path).get("region", {}).items():
        if region not in REGIONS:
            raise SettingsError(f"{regions_path}: unknown region {region!r}")
        for municipality in municipalities:
            regions[municipality.strip().lower()] = region
    clocks_path = config_file(config_dir, "clocks.toml")
    clocks = _parse_clocks(_read_toml(clocks_path), clocks_path)

    smtp = _parse_smtp(env_vars, overrides.pop("smtp", None))
    mail = overrides.pop("mail", None) or _parse_mail(general, env_vars, general_path)
    handover_weeks = general.get("obligation", {}).get("handover_weeks_before", 8)
    if not isinstance(handover_weeks, int) or isinstance(handover_weeks, bool) or not 1 <= handover_weeks <= 52:
        raise SettingsError(f"{general_path}: [obligation] handover_weeks_before must be a whole number from 1 to 52")
    login = overrides.pop("login", None) or _parse_login(general, env_vars, general_path)
    input_settings = overrides.pop("input", None) or _parse_input(general, general_path)

    settings = Settings(
        env=env,
        database_url=database_url,
        secret_key=secret_key,
        base_url=base_url,
        instance_dir=instance_dir,
        config_dir=config_dir,
        default_region=default_region,
        clocks=clocks,
        municipality_regions=regions,
        terminology=dict(general.get("terminology", {})),
        smtp=smtp,
        mail=mail,
        handover_weeks_before=handover_weeks,
        login=login,
        input=input_settings,
    )
    if overrides:
        raise SettingsError(f"unknown settings: {', '.join(sorted(overrides))}")
    return settings
