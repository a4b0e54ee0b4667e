"""The operator web console (``spoolgate web``): server-rendered pages over the daemon's database."""
