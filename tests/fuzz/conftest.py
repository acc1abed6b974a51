import os

from hypothesis import HealthCheck, settings

# "ci": the default run (seconds per target). "long": >= 10 000 examples per target, used by
# the slow tests (`pytest -m slow tests/fuzz`) or any run with HYPOTHESIS_PROFILE=long.
settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("long", max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
