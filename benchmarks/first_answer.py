"""Time to the first correct answer, offline engine: train on the synthetic scene until every
object's best peak lies in its box (checked every 50 steps; check time not counted)."""

from __future__ import annotations

import time

from benchmarks.common import Options, Row
from benchmarks.scene import BOX_MARGIN, answers_correct, remember_trained, scene_engine
from benchmarks.scene import synthetic_scene as load_scene

CHECK_EVERY = 50
"""Training steps between two checks (the check's own time is not counted)."""


def first_answer_rows(options: Options) -> list[Row]:
    cap = options.pick(15.0, 90.0, 600.0) if not options.cuda else 45.0
    engine, feature_seconds = scene_engine(options)
    objects = load_scene()[1]["objects"]
    trained = 0.0
    correct, missed = False, ["(not checked)"]
    while trained < cap:
        start = time.perf_counter()
        for _ in range(CHECK_EVERY):
            engine.train_step()
            if trained + time.perf_counter() - start >= cap:
                break
        trained += time.perf_counter() - start
        if engine.step % CHECK_EVERY:
            break  # stopped by the cap between checks
        correct, missed = answers_correct(engine, objects)
        if correct:
            break
    remember_trained(engine)
    device = options.device_label()
    note = (
        f"offline engine (not the ROS node), synthetic scene: 30 keyframes 128x96 added at once, "
        f"{len(objects)} objects, best peak inside box ±{BOX_MARGIN} m; colour-minilm + "
        f"colour-patches; training time only (features {feature_seconds:.1f} s extra, "
        f"query checks excluded); ready gate at {engine.config.trainer.ready_steps} steps"
    )
    if not correct:
        value = f"not reached in {trained + feature_seconds:.0f} s ({engine.step} steps)"
        name = "time to first correct answer incl. features"
        return [
            Row("first_answer", name, value, "s", device, note=note),
            Row("first_answer", "objects still wrong at the cap", ", ".join(missed), "", device),
        ]
    return [
        Row("first_answer", "time to first correct answer", trained, "s", device, note=note),
        Row(
            "first_answer",
            "time to first correct answer incl. features",
            trained + feature_seconds,
            "s",
            device,
        ),
        Row("first_answer", "steps to first correct answer", engine.step, "steps", device),
    ]
