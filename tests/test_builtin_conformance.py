"""coopkit's own plugin passes the conformance kit it gives third parties: every sampler,
teacher, metric and writer it registers, built with its defaults."""

from __future__ import annotations

import pytest

from coopkit.errors import CoopkitWarning
from coopkit.testing import check_plugin

NEEDS_WEIGHTS = {"metrics:fid", "metrics:inception-score", "metrics:inception-class"}


def test_the_builtin_plugin_conforms():
    # the Inception metrics need weights that coopkit never downloads: skipped, with a warning
    with pytest.warns(CoopkitWarning, match="could not check metrics:fid"):
        report = check_plugin("builtin", params={"inception-class": {"label": 951}})
    assert set(report.skipped) <= NEEDS_WEIGHTS
    kinds = {key.partition(":")[0] for key in report.checked}
    assert kinds == {"samplers", "teachers", "metrics", "writers"}
    assert {"samplers:langevin", "teachers:langevin-inference", "writers:b c h w"} <= set(
        report.checked
    )
