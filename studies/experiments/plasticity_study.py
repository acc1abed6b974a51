"""The learning rules' classic results, as figures and one summary file.

    python -m studies.experiments.plasticity_study --out results/plasticity [--brian2]

Figures: the pair-STDP window (measured from isolated pairs, against its closed form);
Pfister & Gerstner's frequency dependence of triplet STDP; the Song, Miller & Abbott
(2000) weight histogram (ours, and Brian2's from the same network with ``--brian2``); BCM
selectivity developing; Oja's weight vector turning to the first principal component;
reward-modulated STDP's learning curve with the true and a shuffled reward.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from snn.plasticity import BCM, Oja, PairSTDP, TripletSTDP
from snn.plasticity.rates import learn_on_rates
from studies.experiments.stdp_protocols import DT, pairing_protocol, weight_change

WINDOW_RULE = PairSTDP(a_plus=1e-4, a_minus=1.05e-4, tau_plus=20e-3, tau_minus=20e-3)


WINDOW_LAGS_MS = tuple(range(-80, 81, 4))


def stdp_window(lags_ms=WINDOW_LAGS_MS) -> dict:
    """Weight change of one pre/post pair per lag (post - pre, ms), and the closed form."""
    measured = [
        weight_change([1000], [1000 + int(round(lag * 1e-3 / DT))], WINDOW_RULE, 0.2) for lag in lags_ms
    ]
    lags = np.asarray(lags_ms, dtype=float) * 1e-3
    expected = np.where(
        lags >= 0,
        WINDOW_RULE.a_plus * np.exp(-lags / WINDOW_RULE.tau_plus),
        -WINDOW_RULE.a_minus * np.exp(lags / WINDOW_RULE.tau_minus),
    )
    return {"lag_ms": list(map(float, lags_ms)), "measured": measured, "closed_form": expected.tolist()}


def triplet_frequency(frequencies=(1, 5, 10, 20, 30, 40, 50)) -> dict:
    rule = TripletSTDP(w_min=-1.0, w_max=1.0)
    return {
        "frequency_hz": list(frequencies),
        **{f"lag_{lag:+d}ms": [pairing_protocol(rule, f, lag) for f in frequencies] for lag in (10, -10)},
    }


def song(duration: float, brian2: bool) -> dict:
    import snn
    from snn.examples import SongParameters, song2000

    params = SongParameters()
    out = {"w_max": params.w_max, "duration_s": duration}
    result = snn.Simulator(song2000(params), dt=DT, progress=True).run(duration)
    out["ours"] = {"weights": result.weights["inputs_out"].tolist(), "rate_hz": float(result.rates("out")[0])}
    if brian2:
        import hardware

        peer = hardware.get("brian2", target="cython").run(song2000(params), duration, dt=DT)
        out["brian2"] = {
            "weights": peer.weights["inputs_out"].tolist(),
            "rate_hz": float(peer.rates("out")[0]),
        }
    return out


def bcm_selectivity(seconds: int = 60) -> dict:
    rng = np.random.default_rng(1)
    a = np.array([20, 20, 20, 0, 0, 0.0])
    rule = BCM(learning_rate=3e-4, tau_theta=0.2)
    weights, theta = 0.05 + rng.uniform(0, 0.005, (1, 6)), None
    responses = []
    for _ in range(seconds):
        shown = np.repeat(rng.integers(0, 2, 50), 20)  # 1 s: a pattern every 20 ms
        weights, _, theta = learn_on_rates(
            rule, weights, np.where(shown[:, None] == 0, a, a[::-1]), 1e-3, theta
        )
        responses.append([float(weights[0] @ a), float(weights[0] @ a[::-1])])
    return {"t_s": list(range(1, seconds + 1)), "responses_hz": responses}


def oja_alignment(seconds: int = 40) -> dict:
    rng = np.random.default_rng(1)
    mixing = rng.normal(size=(6, 3))
    rates = 10 * np.log1p(np.exp(rng.normal(size=(seconds * 1000, 3)) @ mixing.T))
    _, vectors = np.linalg.eigh(rates.T @ rates / len(rates))
    pc = vectors[:, -1]
    weights, cosines = rng.uniform(0, 0.1, (1, 6)), []
    for second in range(seconds):
        weights, _, _ = learn_on_rates(
            Oja(learning_rate=1e-3), weights, rates[second * 1000 : (second + 1) * 1000], 1e-3
        )
        cosines.append(float(abs(weights[0] @ pc) / np.linalg.norm(weights[0])))
    return {"t_s": list(range(1, seconds + 1)), "cos_to_pc1": cosines, "norm": float(np.linalg.norm(weights))}


def reward_learning(seed: int = 1) -> dict:
    from studies.experiments.reward_learning import run_discrimination

    return {
        name: run_discrimination(seed=seed, shuffle_reward=shuffle)["correct"].astype(int).tolist()
        for name, shuffle in (("reward", False), ("shuffled", True))
    }


def figures(summary: dict, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from studies.cli.output import save_figure

    written = []

    def save(name, figure):
        figure.tight_layout()
        save_figure(out / name, figure)
        plt.close(figure)
        written.append(name)

    w = summary["window"]
    figure, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(w["lag_ms"], w["closed_form"], "k-", label="A+ exp(-dt/tau+), -A- exp(dt/tau-)")
    ax.plot(w["lag_ms"], w["measured"], "o", ms=4, label="simulated pairs")
    ax.axhline(0, color="0.7", lw=0.5)
    ax.set(xlabel="t_post - t_pre (ms)", ylabel="weight change (V)", title="pair STDP window")
    ax.legend(fontsize=7)
    save("stdp_window.png", figure)

    t = summary["triplet"]
    figure, ax = plt.subplots(figsize=(5, 3.5))
    for key in ("lag_+10ms", "lag_-10ms"):
        ax.plot(t["frequency_hz"], t[key], "o-", label=key.replace("lag_", "").replace("ms", " ms"))
    ax.axhline(0, color="0.7", lw=0.5)
    ax.set(
        xlabel="pairing frequency (Hz)",
        ylabel="weight change, 60 pairs",
        title="triplet STDP (Pfister & Gerstner 2006)",
    )
    ax.legend()
    save("triplet_frequency.png", figure)

    s = summary["song"]
    figure, ax = plt.subplots(figsize=(5, 3.5))
    for name in ("ours", "brian2"):
        if name in s:
            label = f"{name} ({s[name]['rate_hz']:.1f} Hz out)"
            weights = np.asarray(s[name]["weights"]) / s["w_max"]
            ax.hist(weights, bins=20, range=(0, 1), histtype="step", lw=1.5, label=label)
    ax.set(xlabel="w / w_max", ylabel="synapses", title=f"Song et al. 2000 after {s['duration_s']:g} s")
    ax.legend()
    save("song_weights.png", figure)

    b = summary["bcm"]
    figure, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(b["t_s"], np.asarray(b["responses_hz"]), label=["pattern A", "pattern B"])
    ax.set(xlabel="time (s)", ylabel="response (Hz)", title="BCM: one pattern wins")
    ax.legend()
    save("bcm_selectivity.png", figure)

    o = summary["oja"]
    figure, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(o["t_s"], o["cos_to_pc1"])
    ax.set(xlabel="time (s)", ylabel="|cos(w, PC1)|", title="Oja: w turns to the first principal component")
    save("oja_pc1.png", figure)

    r = summary["reward"]
    figure, ax = plt.subplots(figsize=(5, 3.5))
    for name in ("reward", "shuffled"):
        correct = np.asarray(r[name], dtype=float)
        ax.plot(np.convolve(correct, np.ones(50) / 50, mode="valid"), label=name)
    ax.axhline(0.5, color="0.7", lw=0.5)
    ax.set(xlabel="trial", ylabel="accuracy (50 trials)", title="reward-modulated STDP")
    ax.legend()
    save("reward_learning.png", figure)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path("results/plasticity"), help="output folder (default %(default)s)"
    )
    parser.add_argument(
        "--song-duration", type=float, default=100.0, help="s of the Song network (default %(default)s)"
    )
    parser.add_argument("--brian2", action="store_true", help="also run the Song network on Brian2 (cython)")
    args = parser.parse_args(argv)
    if not args.song_duration > 0:
        parser.exit(2, f"--song-duration: must be > 0 s, got {args.song_duration}\n")
    from studies.cli.output import staged, write_json

    summary = {
        "window": stdp_window(),
        "triplet": triplet_frequency(),
        "song": song(args.song_duration, args.brian2),
        "bcm": bcm_selectivity(),
        "oja": oja_alignment(),
        "reward": reward_learning(),
    }
    with staged(args.out) as stage:
        written = figures(summary, stage)
        write_json(stage / "summary.json", summary)
    print(f"written {args.out}/ ({', '.join([*written, 'summary.json'])})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
