"""Energy estimates from counted operations. These are estimates, labelled with their source.

* 45 nm CMOS, 32-bit float: multiply 3.7 pJ + add 0.9 pJ = 4.6 pJ per multiply-accumulate,
  0.9 pJ per accumulate (Horowitz, "Computing's energy problem", ISSCC 2014).
* Loihi: 23.6 pJ per synaptic operation (Davies et al., IEEE Micro 38(1), 2018, Table 1).
"""

from __future__ import annotations

PJ = 1e-12
MAC_J = 4.6 * PJ  # Horowitz 2014, 45 nm, fp32
AC_J = 0.9 * PJ  # Horowitz 2014, 45 nm, fp32 add
LOIHI_SOP_J = 23.6 * PJ  # Davies et al. 2018
SOURCES = {
    "mac_j": "Horowitz 2014 (ISSCC), 45 nm fp32 mult + add",
    "ac_j": "Horowitz 2014 (ISSCC), 45 nm fp32 add",
    "loihi_sop_j": "Davies et al. 2018 (IEEE Micro), Loihi synaptic op",
}


def ann_energy(macs: float) -> float:
    """Joules for ``macs`` multiply-accumulates (estimate)."""
    return macs * MAC_J


def snn_energy(accumulates: float, macs: float = 0.0) -> float:
    """Joules for spike-driven accumulates plus any multiply-accumulates (estimate)."""
    return accumulates * AC_J + macs * MAC_J
