"""mas: case management for Dutch leerplicht and thuiszitter work (Methodische Aanpak Schoolverzuim)."""

__version__ = "0.1.0"
