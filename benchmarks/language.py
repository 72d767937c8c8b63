"""Training throughput of a LERF-size language field (2 x 12-level grids, 8 features, 2^19 rows;
CLIP head 4 x 256 -> 512, DINO head 1 x 256 -> 384), 24 samples per ray, as in kerrj/lerf."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchmarks.common import NA_CPU, Options, Row, best_time
from benchmarks.training import LERF_REFERENCE
from lerf_ros.fields.language_field import LanguageField, LanguageFieldConfig
from lerf_ros.rendering.volume import render_embedding

SAMPLES_PER_RAY = 24


def _step_fn(field, optimizer, scaler, rays: int, device: torch.device, amp: bool, compiled: bool):
    forward = torch.compile(field) if compiled else field
    positions = (torch.rand(rays, SAMPLES_PER_RAY, 3, device=device) - 0.5) * 3.0
    scales = torch.rand(rays, SAMPLES_PER_RAY, 1, device=device)
    weights = torch.softmax(torch.randn(rays, SAMPLES_PER_RAY, 1, device=device), dim=1)
    clip_target = F.normalize(torch.randn(rays, field.config.clip_dim, device=device), dim=-1)
    dino_target = torch.randn(rays, field.config.dino_dim, device=device)

    def step():
        with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
            out = forward(positions, scales)
            clip = render_embedding(weights, out["clip"], normalise=True)
            dino = render_embedding(weights, out["dino"], normalise=False)
            loss = 0.1 * F.huber_loss(clip.float(), clip_target, delta=1.25, reduction="none").sum(
                -1
            ).mean() + F.mse_loss(dino.float(), dino_target)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    return step


def language_rows(options: Options) -> list[Row]:
    """Rays/s and samples/s of the language part's step: eager / compiled, fp32 / fp16."""
    device = options.device
    rays = 4096 if options.cuda else options.pick(128, 512)
    aabb = torch.tensor([[-1.5, -1.5, -1.5], [1.5, 1.5, 1.5]])
    field = LanguageField(LanguageFieldConfig(grid_backend="auto"), aabb).to(device)
    try:
        optimizer = torch.optim.Adam(field.parameters(), lr=1e-2, eps=1e-15, fused=True)
    except (RuntimeError, TypeError):
        optimizer = torch.optim.Adam(field.parameters(), lr=1e-2, eps=1e-15)
    variants = [(False, False)] if options.quick else [(False, False), (False, True)]
    if options.cuda:
        variants += [(True, False), (True, True)]
    rows = []
    for amp, compiled in variants:
        scaler = torch.amp.GradScaler("cuda", enabled=amp)
        label = f"{'fp16 autocast' if amp else 'fp32'}, {'torch.compile' if compiled else 'eager'}"
        try:
            step = _step_fn(field, optimizer, scaler, rays, device, amp, compiled)
            seconds = best_time(step, options.pick(1, 2) if not options.cuda else 10, device)
            value, note = rays / seconds, ""
        except Exception as error:  # a failing compile is a result, not a crash
            value, note = None, f"{type(error).__name__}: {str(error)[:120]}"
        backend = field.encodings[0].backend
        note = note or f"{rays} rays x {SAMPLES_PER_RAY} samples per step; grid {backend}"
        if not options.cuda and rays != 4096:
            note += " (LERF: 4096 rays)"
        for unit, per in (("rays/s", 1), ("samples/s", SAMPLES_PER_RAY)):
            rows.append(
                Row(
                    "training",
                    f"LERF-size language part ({label}): {unit}",
                    value * per if value is not None else None,
                    unit,
                    options.device_label(),
                    reference=LERF_REFERENCE if unit == "rays/s" else "",
                    note=note,
                )
            )
    if options.quick:
        rows.append(
            Row(
                "training",
                "LERF-size language part (torch.compile)",
                "skipped (--quick)",
                "rays/s",
                options.device_label(),
                note="compiling takes longer than a --quick row",
            )
        )
    if not options.cuda:
        rows.append(
            Row(
                "training",
                "LERF-size language part (fp16 autocast)",
                NA_CPU,
                "rays/s",
                options.device_label(),
            )
        )
    return rows
