"""The system model: units, limits, the array and its near-field channels, the scenario
and scenario files.

Modules
-------
units
    Unit conversions and physical constants.
ranges, limits
    The accepted range of every scenario quantity (the table); the checks against it.
channel, planar
    Near-field channel of a uniform linear array; of a uniform planar array.
channel_file
    Channels one already has: checks of the arrays, the ``.npz`` / ``.mat`` files.
rt
    Ray-traced channels (Sionna RT, an optional extra).
scenario
    The array, the nodes, the powers and the noise of one or many scenarios.
scenario_config, scenario_file
    The schema of a scenario file's tables; the TOML file itself: reading, one-line errors.
"""

#: The public modules (importing the subpackage alone loads none of them).
__all__ = ["units", "ranges", "limits", "channel", "planar", "channel_file", "rt", "scenario", "scenario_config",
           "scenario_file"]
