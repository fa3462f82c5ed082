"""SpiffWorkflow baseline for the case-lifecycle benchmark (see baseline.SpiffCases)."""


def __getattr__(name):  # lazy, so `python -m bench.spiff.baseline` does not pre-import the module
    if name in ("SpiffCases", "run_spiff"):
        from . import baseline

        return getattr(baseline, name)
    raise AttributeError(name)


__all__ = ["SpiffCases", "run_spiff"]
