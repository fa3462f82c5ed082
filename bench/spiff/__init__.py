"""SpiffWorkflow baseline for the case-lifecycle benchmark (see baseline.run_spiff)."""


def __getattr__(name):  # lazy, so `python -m bench.spiff.baseline` does not pre-import the module
    if name == "run_spiff":
        from .baseline import run_spiff

        return run_spiff
    raise AttributeError(name)


__all__ = ["run_spiff"]
