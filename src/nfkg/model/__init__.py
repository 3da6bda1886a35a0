"""The system model: units, limits, the array and its near-field channels, the scenario
and scenario files.

Modules
-------
units, limits, channel, scenario, scenario_file
"""
