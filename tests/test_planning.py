"""The dry run: a chapter's plan with FLOPs and minutes predicted from the step-time table, or what it computes;
and one measured step (no assertion on how long it took)."""

import math
from dataclasses import replace

import pytest

from paperlib.book.runner import plan_run, recorded_parameters
from paperlib.chapters import chapter
from paperlib.cli import main
from paperlib.hardware import cpu_model
from paperlib.planning import (
    PROBE_KINDS, Calibration, calibrate, chapter_forecast, chapter_times, describe, forecast_words, measure_step, predict,
    processes, step_key)


def quick(name):
    return plan_run(name, "quick")


def table_for(specs, step_s=0.01, eval_s=0.001):
    return {"cpu": "Test CPU", "cores": 2, "chapters": {},
            "steps": {step_key(s): {"step_s": step_s, "eval_s": eval_s, "batch": s.batch,
                                    "forward_flops": s.forward_flops} for s in specs}}


def test_a_measured_step_predicts_the_run_and_an_unmeasured_one_its_flops_at_the_measured_rate():
    plan = chapter("shakespeare").runs(quick("shakespeare").parameters)
    spec = plan[0]
    measured = predict(spec, table_for([spec]))
    assert measured.basis == "measured" and measured.seconds == pytest.approx(spec.steps * 0.01 + spec.eval_total * 0.001)
    other = plan[-1]  # another model of the chapter: by FLOPs at the rate measured for the first
    guessed = predict(other, table_for([spec]))
    rate = 3 * spec.batch * spec.forward_flops / 0.01
    assert guessed.basis.startswith("≈") and guessed.seconds == pytest.approx(other.flops() / rate)
    assert predict(replace(spec, batch=spec.batch + 1), table_for([spec])).basis.startswith("≈")  # another batch
    assert math.isnan(predict(spec, table_for([])).seconds)


def test_the_dry_run_groups_seeds_and_says_which_runs_may_end_sooner():
    run = quick("long_range_image")
    plan = chapter("long_range_image").runs(run.parameters)
    text = describe(run, table_for(plan), calibrated=False)
    assert text.startswith(f"long_range_image (quick): {len(plan)} runs") and "measured" in text
    assert "≤3" in text and "early stop once the training loss is below 0.1" in text
    assert len([line for line in text.splitlines() if line.startswith("  —")]) == 4  # four models, seeds together


def test_a_chapter_that_trains_nothing_says_what_it_computes_and_its_measured_minutes():
    run = quick("scaling_law")
    record = {"notebook": "scaling_law", "profile": "quick", "parameters": run.parameters, "wall_time_s": 90.0,
              "started_at": "2026-01-01T00:00:00+00:00", "hardware": {"where": "Test CPU (2 threads)"}}
    trains = {**record, "notebook": "copy_tasks", "parameters": quick("copy_tasks").parameters}  # keeps no time
    table = {**table_for([]), "chapters": chapter_times([record, trains])}
    text = describe(run, table)
    assert "trains nothing; about 1.5 min" in text and "bootstrap refits" in text
    assert "no measured time for these parameters; the quick profile took 1.5 min" in describe(
        plan_run("scaling_law", "quick", {"n_bootstrap": 30}), table)


def test_a_record_older_than_a_parameter_reads_it_at_its_default():
    values = quick("copy_tasks").parameters
    older = {"notebook": "copy_tasks", "profile": "cpu", "parameters": {k: v for k, v in values.items() if k != "tasks"}}
    assert recorded_parameters(older) == values and recorded_parameters(older)["tasks"] == "both"
    assert recorded_parameters({**older, "parameters": values | {"tasks": "copy"}})["tasks"] == "copy"
    assert chapter_times([older]) == {}  # it trains: no chapter time, and no KeyError on the missing parameter


def test_a_curriculum_marks_the_length_as_its_longest():
    run = quick("copy_tasks")
    text = describe(run, table_for(chapter("copy_tasks").runs(run.parameters)), calibrated=False)
    assert "≤96" in text and "≤ length: the longest of the july2025 curriculum from length 64 to 96" in text


def test_plan_prints_and_runs_nothing(tmp_path, capsys):
    assert main(["run", "scaling_law", "--profile", "quick", "--plan", "--output-dir", str(tmp_path)]) == 0
    assert "scaling_law (quick): trains nothing" in capsys.readouterr().out and not list(tmp_path.iterdir())


def test_a_step_is_timed_by_cpu_time_and_by_the_clock():
    spec = chapter("shakespeare").runs(quick("shakespeare").parameters)[-1]
    found = measure_step(spec)
    assert set(found) == {"step_s", "step_wall_s", "eval_s", "eval_wall_s", "batch", "forward_flops"}
    assert all(found[k] > 0 for k in ("step_s", "eval_s")) and found["batch"] == spec.batch


def test_the_forecast_is_calibrated_to_this_cpu_by_its_heaviest_step_kinds_re_measured():
    run = quick("shakespeare")
    plan = chapter("shakespeare").runs(run.parameters)
    table = table_for(plan, step_s=1e-4, eval_s=1e-7)  # a table far faster than any CPU
    here = calibrate(plan, table)
    assert here.cpu == cpu_model() and 0 < len(here.ratios) <= PROBE_KINDS and set(here.ratios) <= set(table["steps"])
    assert all(step > 1 and evaluation > 1 for step, evaluation in here.ratios.values()) and min(here.overall) > 1
    assert 0 < here.cover <= 1
    unmeasured = next(k for k in table["steps"] if k not in here.ratios) if here.cover < 1 else None
    assert unmeasured is None or here.factors(unmeasured) == here.overall  # a kind not re-measured: theirs together
    wall, words = forecast_words(plan, 1, table)
    uncalibrated, _ = forecast_words(plan, 1, table, calibrated=False)
    assert wall > uncalibrated  # scaled by the re-measured ratios (measured again here: only the direction is sure)
    assert "of this CPU" in words and "heaviest step kinds" in words and "of the step table's CPU (Test CPU" in words
    assert "on one GPU" in words
    assert calibrate(plan, {**table, "cpu": cpu_model()}) is None  # on the table's own CPU nothing is re-measured
    assert calibrate(plan, table_for([])) is None  # nothing to compare
    assert "which was not measured against it" in forecast_words(plan, 1, table, calibrated=False)[1]


def test_each_step_kind_is_scaled_by_its_own_ratio():
    plan = chapter("shakespeare").runs(quick("shakespeare").parameters)
    spec, table = plan[0], table_for(plan)
    key = step_key(spec)
    here = Calibration("Test CPU", {key: (2.0, 3.0)}, (5.0, 7.0), 0.5)
    assert predict(spec, table, here).seconds == pytest.approx(spec.steps * 0.01 * 2 + spec.eval_total * 0.001 * 3)
    other = next(s for s in plan if step_key(s) != key)
    assert predict(other, table, here).seconds == pytest.approx(other.steps * 0.01 * 5 + other.eval_total * 0.001 * 7)


def test_a_chapter_on_more_threads_is_re_measured_on_them_even_on_the_tables_cpu():
    plan = chapter("shakespeare").runs(quick("shakespeare").parameters)
    table = {**table_for(plan, step_s=1e-4, eval_s=1e-7), "cpu": cpu_model()}
    here = calibrate(plan, table, threads=2)
    assert here is not None and here.threads == 2 and min(here.overall) > 1
    words = forecast_words(plan, 1, table, threads=2)[1]
    assert "on one process of 2 threads of this CPU" in words and "re-measured here on 2 threads" in words


def test_a_chapter_runs_on_its_workers_or_its_threads():
    assert processes({"workers": 3, "threads": 4}) == (3, 1)  # workers are single-threaded
    assert processes({"workers": 1, "threads": 4}) == (1, 4)
    assert processes({"threads": 2}) == (1, 2) and processes({}) == (1, 1)
    cores = processes({"workers": 0})[0]
    assert cores >= 1 and processes({"threads": 0}) == (1, cores)


def test_a_run_is_forecast_when_its_chapter_trains():
    assert chapter_forecast(quick("scaling_law")) is None
    seconds, words = chapter_forecast(quick("shakespeare"))
    assert seconds > 0 and words.startswith("Expected: about") and "on one GPU" in words
