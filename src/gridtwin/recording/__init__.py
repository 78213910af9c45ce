"""Recording: the recorder simulator and the run stores."""
