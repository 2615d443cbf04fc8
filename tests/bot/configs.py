"""Config pieces shared by the bot tests."""

# The strategy section for tests of the condor engine alone (the VIX layer adds its own fills).
CONDORS_ONLY = {"vix": {"enabled": False}}
