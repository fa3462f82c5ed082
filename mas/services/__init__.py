"""The service layer: the only code that changes a case.

Front ends (web, API, CLI, scheduler) parse their input, authorise, and call these functions
inside one transaction (`with db.begin() as conn:`); they know nothing of HTTP.
"""
