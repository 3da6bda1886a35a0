"""The system model: units, limits, the array and its near-field channels, the scenario
and scenario files.

Modules
-------
units, limits, channel, scenario, scenario_file
"""

#: The public modules (importing the subpackage alone loads none of them).
__all__ = ["units", "limits", "channel", "rt", "scenario", "scenario_file"]
