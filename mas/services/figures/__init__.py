"""The figures a council and the Inspectie ask for: the dashboard, the thuiszitters overview for
the samenwerkingsverband, and the yearly leerplicht report (art. 25 Leerplichtwet).

Every figure is a query scoped in SQL to the actor's team (a coordinator), own cases (a
casusregisseur) or the samenwerkingsverband's teams (its rapporteur), and is handed to the
front ends as a Table (mas.services.figures.tables): the page draws it, the exports write it
with small counts suppressed, and every export is logged in the access log.
"""

from mas.services.figures.dashboard import Dashboard, build_dashboard
from mas.services.figures.export import export_dashboard_table, export_dashboard_workbook
from mas.services.figures.schools import import_school_figures
from mas.services.figures.tables import Column, Table

__all__ = ["Column", "Dashboard", "Table", "build_dashboard", "export_dashboard_table", "export_dashboard_workbook",
           "import_school_figures"]
