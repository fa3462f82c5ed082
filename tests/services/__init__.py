import pytest

# The stateful test's model holds most of its assertions: rewrite them as pytest does a test
# module's, so that a failing one shows its values.
pytest.register_assert_rewrite("tests.services.stateful_model")
