"""Smoke tests of the benchmark harness on tiny sizes: structure and checks, never timings."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from bench import machine, report, workloads
from bench.__main__ import main
from bench.engines import MissingEngine
from bench.harness import Context, Settings

TINY = Settings(repeats=2, warmup=1, sample_time=0, scalar_points=3, chain_depth=600, chain_repeats=1,
                mlp_batches=(4,), cnn_batch=2, makemore_batches=(5,), moons_points=6, import_runs=1,
                memory_steps=4, memory_batch=8, matmul_size=32)
RESULT_KEYS = {"workload", "case", "engine", "status", "note", "seconds", "samples", "metrics", "ratios"}


def run(name, engines=None, modules=None):
    ctx = Context(TINY, engines, modules=modules, threads=1)
    results, targets = workloads.get(name).run(ctx)
    return [r.as_dict() for r in results], [t.as_dict() for t in targets], ctx


def by_engine(results):
    return {r["engine"]: r for r in results}


@pytest.mark.parametrize("name", ["mlp", "cnn", "makemore"])
def test_training_workloads_agree_with_numpy(name):
    results, targets, _ = run(name, ["numpy", "chainrule", "torch"])
    rows = by_engine(results)
    assert all(set(r) == RESULT_KEYS for r in results)
    assert rows["numpy"]["status"] == "ok" and len(rows["numpy"]["samples"]) == TINY.repeats
    # every engine's two checked steps gave the hand-written NumPy losses (else: "mismatch", not timed)
    chainrule = rows["chainrule"]
    assert chainrule["status"] == "ok", chainrule["note"]
    assert chainrule["metrics"]["GFLOP/s"] > 0 and chainrule["metrics"]["page faults/step"] >= 0
    assert rows["torch"]["status"] in ("ok", "missing"), rows["torch"]["note"]
    assert chainrule["ratios"].keys() == ({"numpy", "torch"} if rows["torch"]["status"] == "ok" else {"numpy"})
    assert all(t["passed"] in (True, False, None) for t in targets)


def test_makemore_engines_take_the_same_steps():
    """Both engines run the lecture's lines from the same weights on the same minibatches: after five
    steps their parameters agree with each other and with the hand-written NumPy step."""
    pytest.importorskip("torch")
    from bench.engines import chainrule, numpy_hand, pytorch
    from bench.workloads.makemore import LR, makemore_data

    params, X, Y, batches = makemore_data(7)
    losses = {}
    for name, module in (("numpy", numpy_hand), ("chainrule", chainrule), ("torch", pytorch)):
        step = module.makemore_step(params, X, Y, batches, LR)
        losses[name] = [step() for _ in range(5)]
    assert len(set(losses["numpy"])) == 5  # five different minibatches, and the weights move
    for name in ("chainrule", "torch"):
        np.testing.assert_allclose(losses[name], losses["numpy"], rtol=2e-5)


def test_moons_engines_agree_with_numpy():
    results, targets, _ = run("moons")
    rows = by_engine(results)
    assert rows["chainrule"]["status"] == "ok", rows["chainrule"]["note"]
    assert rows["micrograd"]["status"] in ("ok", "missing"), rows["micrograd"]["note"]
    if rows["micrograd"]["status"] == "ok":
        assert rows["chainrule"]["ratios"].keys() == {"micrograd"}
        assert targets[0]["passed"] in (True, False)


def test_moons_loop_is_micrograds_demo():
    """Same lines on both Value classes: 20 iterations give the same losses, accuracies and weights as the
    float64 NumPy loop, and the loop learns the moons (the data are two half circles, labels -1 and 1)."""
    from autograd import Value
    from bench.engines import lecture, numpy_hand
    from bench.workloads.moons import make_moons, moons_data

    X, y = make_moons(40, np.random.default_rng(1), noise=0.0)
    assert X.shape == (40, 2) and sorted(set(y)) == [-1.0, 1.0] and (y == 1).sum() == 20
    np.testing.assert_allclose(np.hypot(*(X[y < 0]).T), 1.0)  # the upper moon lies on the unit circle
    weights, X, y = moons_data(30)
    expected = numpy_hand.moons_reference(weights, X, y, 20)
    classes = [Value]
    try:
        from micrograd.engine import Value as MicrogradValue
        classes.append(MicrogradValue)
    except ImportError:
        pass
    for value in classes:
        step = lecture.moons_step(value, weights, X, y)
        got = [step() for _ in range(20)]
        np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert expected[-1][0] < expected[0][0] and expected[-1][1] > 0.8


def test_a_wrong_engine_is_caught_and_not_timed():
    def mlp_step(params, x, y, lr):
        return lambda: 1.0  # a constant "loss": what a broken adapter might return

    results, _, _ = run("mlp", ["numpy", "wrong"], modules={"wrong": SimpleNamespace(mlp_step=mlp_step)})
    wrong = by_engine(results)["wrong"]
    assert wrong["status"] == "mismatch" and "differ from NumPy's" in wrong["note"]
    assert wrong["seconds"] is None and not wrong["samples"]


def test_missing_engines_and_unsupported_workloads_are_reported():
    results, _, _ = run("mlp", ["numpy", "torch", "micrograd"],
                        modules={"torch": MissingEngine("torch is not installed")})
    rows = by_engine(results)
    assert rows["torch"]["status"] == "missing" and "not installed" in rows["torch"]["note"]
    assert rows["micrograd"]["status"] in ("n/a", "missing")  # no MLP adapter, or not installed
    assert rows["numpy"]["ratios"] == {}  # nothing timed to compare with


def test_scalar_and_chain_check_against_references():
    results, targets, _ = run("scalar")
    for r in results:
        assert r["status"] in ("ok", "missing"), r["note"]
        if r["status"] == "ok":
            assert r["metrics"]["nodes"] > 100 and r["metrics"]["nodes/s"] > 0
    results, targets, _ = run("chain")
    rows = by_engine(results)
    assert rows["chainrule"]["status"] == "ok"
    if rows["micrograd"]["status"] != "missing":
        assert rows["micrograd"]["status"] == "fails" and "RecursionError at depth" in rows["micrograd"]["note"]
    assert targets[0]["passed"] is None  # 600 deep says nothing about 10^6


def test_memory_runs_fresh_processes():
    results, targets, _ = run("memory")
    for r in results:
        assert r["status"] == "ok", r["note"]
        assert r["metrics"]["peak MB"] > 0
    assert {t["name"] for t in targets} >= {"memory: no growth over the steps"}


def test_cli_writes_json_and_table(tmp_path, capsys):
    out = tmp_path / "latest.json"
    main(["--workload", "import", "--engine", "chainrule", "--quick", "--malloc", "default", "--json", str(out)])
    data = json.loads(out.read_text())
    assert {"machine", "settings", "runs", "tuned_env", "command"} <= data.keys()
    assert data["machine"]["nproc"] >= 1 and data["machine"]["numpy"]
    (only,) = data["runs"]
    assert only["malloc"] == "default" and {r["case"] for r in only["results"]} >= {"import autograd", "import nn"}
    table = capsys.readouterr().out
    assert "import autograd" in table and "target" in table
    assert report.markdown(data, data["command"]).startswith("# Benchmarks")


def test_machine_facts_name_the_blas_kernel_and_record_keeps_the_notes():
    facts = machine.describe(1)
    assert {"blas", "blas_kernel", "openblas_env", "malloc"} <= facts.keys()
    written = "# Benchmarks\n\nold table\n" + report.NOTES_MARKER + "\n## Where the time goes\nprofile notes\n"
    kept = report.kept_notes(written)
    assert kept.lstrip().startswith(report.NOTES_MARKER) and "profile notes" in kept and "old table" not in kept
    assert report.NOTES_MARKER in report.kept_notes("# Benchmarks\nno notes yet\n")


def test_fresh_times_each_engine_in_a_process_of_its_own():
    results, targets, _ = run("fresh", engines=["chainrule", "numpy"])
    cases = {r["case"] for r in results}
    assert cases == {"makemore batch 5, one engine a process", "cnn batch 2, one engine a process",
                     "mlp batch 4, one engine a process"}
    for r in results:
        assert r["status"] == "ok", r["note"]
        assert r["seconds"] > 0 and r["metrics"]["page faults/step"] >= 0 and len(r["samples"]) == 1
    chainrule = [r for r in results if r["engine"] == "chainrule"]
    assert all("numpy" in r["ratios"] for r in chainrule)
    # makemore and the CNN have a torch target (mlp batch 4 has none), not judged: torch was not asked for
    assert len(targets) == 2 and all(t["passed"] is None for t in targets)
