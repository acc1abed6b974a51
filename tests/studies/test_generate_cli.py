"""`snn generate`: a GAN run end to end (files, figures, JSON) and bad input."""

from __future__ import annotations

import json

import pytest

from studies.cli import main


@pytest.mark.parametrize(
    ("data", "model", "optimizer", "discriminator"),
    [
        ("ring", "gan", "acgd", "ann"),
        ("digits", "wgan-gp", "adam", "ann"),
        ("ring", "wgan", "cgd", "snn"),
        ("mnist1d", "ebgan", "extragradient", "ann"),
    ],
)
def test_generate_writes_results_samples_and_losses(tmp_path, capsys, data, model, optimizer, discriminator):
    out = tmp_path / "out"
    args = ["generate", "--data", data, "--model", model, "--optimizer", optimizer, "--steps", "20",
            "--batch", "64", "--discriminator", discriminator]  # fmt: skip
    assert main([*args, "--out", str(out), "--json", str(tmp_path / "r.json")]) == 0
    report = json.loads((out / "results.json").read_text())
    assert report == json.loads((tmp_path / "r.json").read_text())
    assert report["steps"] == 20 and report["optimizer"] == optimizer and not report["diverged"]
    assert report["discriminator"] == discriminator
    if data in ("digits", "mnist1d"):
        assert report["frechet_distance"] > 0 and 0.0 <= report["two_sample_accuracy"] <= 1.0
    else:
        assert report["modes"] == 8 and report["cg_iterations_per_step"] >= 1
    for figure in ("samples.png", "losses.png"):
        assert (out / figure).stat().st_size > 5_000
    assert "written" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--optimizer", "sgd"], "--optimizer"),
        (["--data", "cifar"], "--data"),
        (["--model", "lsgan"], "--model"),
        (["--lr", "0"], "--lr"),
        (["--lr", "-1e-3"], "--lr"),
        (["--model", "ebgan", "--optimizer", "cgd"], "zero-sum"),
        (["--steps", "0"], "--steps"),
        (["--batch", "1"], "--batch"),
        (["--discriminator", "cnn"], "--discriminator"),
        (["--discriminator", "snn", "--model", "ebgan", "--optimizer", "adam"], "auto-encoder"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert main(["generate", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not out.exists()
