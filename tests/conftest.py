import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _numpy_errors_raise():
    # NaNs and overflows fail loudly instead of propagating (as nengo's simulator does)
    with np.errstate(invalid="raise", over="raise", divide="raise"):
        yield
