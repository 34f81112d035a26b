"""Every model of the plugin against its task's contract, in one line each."""

from ecgbench_more.testing import RetrieveReportContract

from ecgbench.testing import ClassifyContract


class TestMoreContract(RetrieveReportContract):
    model = "more"


class TestBaselineContract(RetrieveReportContract):
    model = "baseline-tfidf-cca"


class TestZeroShotContract(ClassifyContract):
    model = "more-zeroshot"


class TestLinearProbeContract(ClassifyContract):
    model = "more-linear"
