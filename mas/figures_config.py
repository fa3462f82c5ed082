"""config/figures.toml as one typed object, read once per configuration directory (make_context reads it at start-up)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from mas.settings import Settings, SettingsError, config_file


@dataclass(frozen=True)
class FiguresConfig:
    months: int
    oldest: int
    thuiszitter_after_days: int
    small_count: int
    school_year_starts: tuple[int, int]  # (month, day)
    peildata: tuple[date, ...]
    swv_areas: dict[str, tuple[str, ...]]  # organisation name -> municipalities

    def school_year_of(self, day: date) -> str:
        month, dom = self.school_year_starts
        first = day.year if (day.month, day.day) >= (month, dom) else day.year - 1
        return f"{first}-{first + 1}"

    def school_year_bounds(self, school_year: str) -> tuple[date, date]:
        """First day, and the first day of the next school year."""
        try:
            first = int(school_year.split("-")[0])
        except ValueError:
            raise SettingsError(f"geen schooljaar: {school_year!r}") from None
        month, dom = self.school_year_starts
        return date(first, month, dom), date(first + 1, month, dom)


def _load(path: Path) -> FiguresConfig:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: {exc}") from None
    try:
        month, dom = (int(part) for part in data["school_year"]["starts"].split("-"))
        areas = {a["organisation"]: tuple(a["municipalities"]) for a in data.get("swv", {}).get("area", [])}
        return FiguresConfig(
            months=int(data["dashboard"]["months"]), oldest=int(data["dashboard"]["oldest"]),
            thuiszitter_after_days=int(data["thuiszitter"]["after_days"]),
            small_count=int(data["privacy"]["small_count"]), school_year_starts=(month, dom),
            peildata=tuple(sorted(date.fromisoformat(d) for d in data.get("swv", {}).get("peildata", []))),
            swv_areas=areas,
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise SettingsError(f"{path}: {exc!r}") from None


@lru_cache(maxsize=8)
def _cached(path: str, mtime: float) -> FiguresConfig:
    return _load(Path(path))


def figures_config(settings: Settings) -> FiguresConfig:
    path = config_file(settings.config_dir, "figures.toml")
    return _cached(str(path), path.stat().st_mtime)
