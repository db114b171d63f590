"""Cancel takes effect within 5 s in every stage of a run (issue 9 item 4): loading, training,
sampling and measuring. The issue asks for a bound in seconds, so these tests time it: the
cancel is pressed from the progress callback the moment the stage starts, and the run must
raise Cancelled within 5 s of it."""

import threading
import time

import pytest

from faircause_core.generators.base import Cancelled, CancelToken, FairnessSpec
from faircause_core.workflow.pipeline import GenerationSettings, run_generation
from faircause_core.workflow.progress import phase_of

BOUND_S = 5.0


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from faircause_core.generators.lm.store import tiny_model

    return str(tiny_model(path=tmp_path_factory.mktemp("cancel") / "tiny", seed=0))


def seconds_to_stop(table, graph, roles, settings, stage_started, delay=0.0) -> tuple[float, str]:
    """Run, press cancel `delay` s after `stage_started(stage, done)` first holds (from another
    thread, as a user would, in the middle of the stage's work); seconds until it stopped."""
    token, pressed, seen = CancelToken(), {}, []

    def press(stage):
        pressed["at"], pressed["stage"] = time.monotonic(), stage
        token.cancel()

    def progress(stage, done, total):
        if not seen and stage_started(stage, done):
            seen.append(stage)
            if delay:
                threading.Timer(delay, press, args=(stage,)).start()
            else:
                press(stage)

    with pytest.raises(Cancelled):
        run_generation(table, graph, roles, settings, progress=progress, cancel=token)
    assert pressed, "the stage was never reached"
    print(f"cancel in {pressed['stage']!r}: stopped after {time.monotonic() - pressed['at']:.2f} s")
    return time.monotonic() - pressed["at"], pressed["stage"]


def test_cancel_while_loading_the_model(demo_table, demo_graph, demo_roles, tiny, monkeypatch, tmp_path):
    monkeypatch.setenv("FAIRCAUSE_CACHE", str(tmp_path))
    settings = GenerationSettings(generator="llm", model_dir=tiny, train_steps=100_000, rows=200, refine=False)
    took, stage = seconds_to_stop(demo_table, demo_graph, demo_roles, settings,
                                  lambda s, d: phase_of(s) == "load")
    assert took < BOUND_S, (stage, took)


def test_cancel_while_training(demo_table, demo_graph, demo_roles, tiny, monkeypatch, tmp_path):
    monkeypatch.setenv("FAIRCAUSE_CACHE", str(tmp_path))
    settings = GenerationSettings(generator="llm", model_dir=tiny, train_steps=100_000, rows=200, refine=False)
    took, stage = seconds_to_stop(demo_table, demo_graph, demo_roles, settings,
                                  lambda s, d: s == "fine-tuning" and d >= 1, delay=0.5)
    assert took < BOUND_S, (stage, took)


def test_cancel_while_sampling(demo_table, demo_graph, demo_roles, tiny, monkeypatch, tmp_path):
    """Pressed half a second into the refinement's first sample of the language model."""
    monkeypatch.setenv("FAIRCAUSE_CACHE", str(tmp_path))
    settings = GenerationSettings(generator="llm", model_dir=tiny, train_steps=2, rows=1629, measure_rows=20_000,
                                  fairness=FairnessSpec(de=0.5), max_rounds=4)
    took, stage = seconds_to_stop(demo_table, demo_graph, demo_roles, settings,
                                  lambda s, d: phase_of(s) == "sample", delay=0.5)
    assert took < BOUND_S, (stage, took)


@pytest.mark.full_measure  # the light profile's privacy step ends within the second this waits
def test_cancel_while_measuring_inside_a_long_library_call(demo_table, demo_graph, demo_roles):
    """Pressed a second into the privacy metrics (DCR and SDMetrics: one call of 10-30 s)."""
    settings = GenerationSettings(generator="bayesnet", rows=400, refine=False, fairness=FairnessSpec(de=1.0))
    took, stage = seconds_to_stop(demo_table, demo_graph, demo_roles, settings,
                                  lambda s, d: s == "measuring privacy", delay=1.0)
    assert took < BOUND_S, (stage, took)


def test_the_job_shows_cancelling_until_it_stops(tmp_path, demo_table, demo_graph, demo_roles):
    """The app's path: Cancel sets 'cancelling' at once; the job is 'cancelled' within the bound."""
    from faircause_app import jobs

    ws = str(tmp_path / "ws")
    job = jobs.start_job(demo_table, demo_graph, demo_roles,
                         GenerationSettings(generator="bayesnet", rows=400, refine=False), None, {}, ws, "d" * 32)
    deadline = time.monotonic() + 120
    while not job.stage.startswith("measuring ") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert job.status == "running", (job.status, job.error)
    job.cancel()
    pressed = time.monotonic()
    assert job.cancelling and job.status == "running"
    while job.status == "running" and time.monotonic() - pressed < 30:
        time.sleep(0.02)
    assert job.status == "cancelled" and time.monotonic() - pressed < BOUND_S
    assert not job.cancelling and not list((tmp_path / "ws" / "runs").iterdir())
