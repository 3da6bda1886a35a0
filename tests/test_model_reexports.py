"""The names that left ``limits`` and ``scenario_file`` when they were split stay importable
from there, as the very same objects (code written against either module keeps working)."""

import pytest

from nfkg.model import limits, ranges, scenario_config, scenario_file


@pytest.mark.parametrize(("old", "new"), [(limits, ranges), (scenario_file, scenario_config)],
                         ids=["limits<-ranges", "scenario_file<-scenario_config"])
def test_moved_names_are_the_same_objects(old, new):
    assert set(new.__all__) <= set(old.__all__)
    for name in new.__all__:
        assert getattr(old, name) is getattr(new, name), name


def test_the_errors_keep_their_home():
    """Tracebacks and ``except`` clauses name the modules they always named."""
    assert limits.LimitError.__module__ == "nfkg.model.limits"
    assert scenario_file.ScenarioError.__module__ == "nfkg.model.scenario_file"
    with pytest.raises(scenario_file.ScenarioError, match=r"^channels: /no/such\.npz: no such file$"):
        scenario_config.ScenarioConfig(channels="/no/such.npz").to_scenario()
