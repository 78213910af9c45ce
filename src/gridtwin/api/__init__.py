"""gridtwin as an HTTP service: networks, optimization sessions, solutions, power flow, runs.

``gridtwin serve`` runs it (:func:`serve`); :func:`create_app` gives the ASGI
application for another server. Optimizations run in worker processes;
everything persists under the data folder (:mod:`gridtwin.api.store`).
"""

from gridtwin.api.command import serve, serve_command

__all__ = ["serve", "serve_command"]
