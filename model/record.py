"""What a store record scores: the names of its forecasts, shared by the model, CLI and page.

Kept free of numpy and pandas, so reading the cache (a CLI cache hit) stays fast.
"""

from __future__ import annotations

# Every forecast a record scores, on the same cells: the served forecast (the calibrated blend
# the product recommends), the network's own, the seasonal curve the network's anomalies are
# measured from (only for configs with anomalies), and the two baselines.
SERVED, NETWORK, CURVE = "model", "network", "seasonal_curve"
BASELINES = ("climatology", "seasonal_naive")
METHODS = (SERVED, NETWORK, CURVE, *BASELINES)
