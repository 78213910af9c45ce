"""External automation functions: a mosaik simulator in a process (or on a host) of its own.

Declared in a scenario's ``functions`` list with ``cmd:`` or ``connect:``
instead of ``use:``; it reads the same control-centre ports as a built-in
function, in the JSON wire form of :mod:`gridtwin.controllers.external.wire`,
and returns commands in that form, checked by
:mod:`gridtwin.grid.command_limits` before they reach the command channel.
"""
