"""The reference backend: :class:`snn.Simulator` behind the adapter interface."""

from __future__ import annotations

from pathlib import Path

from hardware.base import Backend, Capabilities, MappingReport, probe_variables
from snn.inputs import SPIKE_SOURCES
from snn.network import PROBE_WEIGHTS, Network
from snn.neurons import MODELS
from snn.plasticity import RULES
from snn.synapses import SYNAPSES


class NumbaBackend(Backend):
    """Runs the network on the Numba simulator; ``dtype`` ``"float64"`` or ``"float32"``,
    ``threads`` as :class:`snn.Simulator` takes it (``None``: one per free core for large
    networks)."""

    name = "numba"

    def __init__(self, dtype: str = "float64", threads: int | None = None) -> None:
        self.dtype = dtype
        self.threads = threads

    def capabilities(self) -> Capabilities:
        return Capabilities(
            neuron_models=tuple(MODELS),
            synapses=tuple(SYNAPSES),
            sources=tuple(cls.__name__ for cls in SPIKE_SOURCES),
            probe_variables=(*probe_variables(MODELS.values()), PROBE_WEIGHTS),
            currents=True,
            delays=True,
            plasticity=tuple(RULES),
            exact=True,
            dendrites=True,
            notes=(
                "the reference: every other backend is compared with it",
                "a network with a learning rule runs on one worker thread",
            ),
        )

    def _simulate(self, network: Network, n_steps: int, *, dt: float, seed: int, progress: bool | None):
        from snn.simulator import Simulator

        simulator = Simulator(
            network, dt=dt, seed=seed, dtype=self.dtype, progress=progress, threads=self.threads
        )
        return simulator.run(n_steps * dt)

    def deploy(
        self, network: Network, out: Path, *, dt: float = 1e-4, duration: float = 1.0, seed: int = 0
    ) -> MappingReport:
        """Write the network as ``<out>/model.toml`` (what ``snn simulate`` reads) and the report."""
        from snn.atomic import staged
        from snn.config import SimulationDefaults, save_toml

        self.check(network)
        from hardware.lowering import concrete

        synapses = concrete(network, dt, seed).n_synapses
        report = MappingReport(backend=self.name, neurons=network.n_neurons, synapses=synapses)
        report.converted.append("nothing: the TOML file is the network itself")
        report.files = ["model.toml", "mapping_report.md", "mapping_report.json"]
        with staged(Path(out)) as staging:
            save_toml(
                network, staging / "model.toml", SimulationDefaults(dt=dt, duration=duration, seed=seed)
            )
            report.write(staging)
        return report
