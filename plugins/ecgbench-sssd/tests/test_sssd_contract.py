"""The harness's generate-contract clauses, on a tiny phantom cohort (about half a minute)."""

import pytest

from ecgbench.testing import GenerateContract

pytestmark = pytest.mark.slow


class TestContract(GenerateContract):
    model = "sssd"
