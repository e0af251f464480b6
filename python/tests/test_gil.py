"""The GIL is released while a Renderer renders: other Python threads run meanwhile, and two threads
with a renderer each render faster than one."""

import os
import subprocess
import sys
import threading
import time

import pinsynth


def scene(side):
    return pinsynth.Scene.from_toml(
        f"[image]\nwidth = {side}\nheight = {side}\nantialias = \"ssaa3\"\n[sweep]\ncount = 100000\nseed = 5\n"
    )


def test_other_threads_run_while_a_sample_renders():
    # With a huge switch interval Python never takes the GIL from a running thread: the waiting thread
    # can run before the main thread blocks in join() only if sample() releases the GIL. Held, the
    # result is deterministic (ran == False), whatever the machine's load.
    renderer = pinsynth.Renderer(scene(640))
    renderer.sample(0)  # pipelines built
    old = sys.getswitchinterval()
    results = []
    try:
        sys.setswitchinterval(1000.0)
        for attempt in range(5):
            go = threading.Event()
            seen = {}

            def other():
                go.wait()
                seen["t"] = time.perf_counter()

            t = threading.Thread(target=other)
            t.start()
            go.set()
            renderer.sample(1 + attempt)
            after = time.perf_counter()
            t.join()
            results.append(seen["t"] < after)
            if results[-1]:
                break
    finally:
        sys.setswitchinterval(old)
    assert any(results), "no other thread ran during 5 renders: the GIL is held while rendering"


def measure(renderers, first_index, phases=32, n=6):
    """Images/s of one thread and of two threads (a renderer each), in short phases that alternate,
    so that the machine's changing load falls on both alike; totals over all phases."""
    start, end = threading.Barrier(3, timeout=120), threading.Barrier(3, timeout=120)
    plan = []  # per phase: the indices each thread renders
    errors = []

    def worker(k):
        try:
            for p in range(phases * 2):
                start.wait()
                for i in plan[p][k]:
                    renderers[k].sample(i)
                end.wait()
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)
            start.abort()
            end.abort()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    elapsed, images = {1: 0.0, 2: 0.0}, {1: 0, 2: 0}
    next_index = first_index
    for p in range(phases * 2):
        width = 1 if p % 2 == 0 else 2
        batch = list(range(next_index, next_index + n * width))
        next_index += len(batch)
        plan.append([batch[0::width], batch[1::width] if width == 2 else []])
        t0 = time.perf_counter()
        try:
            start.wait()
            end.wait()
        except threading.BrokenBarrierError:
            break
        elapsed[width] += time.perf_counter() - t0
        images[width] += len(batch)
    for t in threads:
        t.join()
    assert not errors, errors
    return images[1] / elapsed[1], images[2] / elapsed[2], next_index


def test_two_threads_render_faster_than_one():
    # lavapipe spreads one renderer's rasterising over every core by default, which leaves a second
    # thread little to gain whether the GIL is held or not. With LP_NUM_THREADS=0 (what the CLI sets
    # for several workers, and pinsynth.torch for DataLoader workers) each renderer rasterises on its
    # own queue thread. The driver reads the variable when it loads, so the measurement runs in a
    # fresh interpreter (this file run as a script).
    env = dict(os.environ, LP_NUM_THREADS="0")
    run = subprocess.run([sys.executable, __file__], env=env, capture_output=True, text=True, timeout=900)
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr


def two_threads_render_faster_than_one():
    # Held, the GIL would serialise the two threads: ratio about 1 (1.04 measured with the GIL held).
    # On a machine saturated by other processes a measurement can show no gain either, so up to four
    # are made; it passes at the first with a ratio above 1.2.
    s = scene(256)
    renderers = [pinsynth.Renderer(s), pinsynth.Renderer(s)]
    for r in renderers:
        r.sample(0)
    seen, index = [], 1
    for _ in range(4):
        one, two, index = measure(renderers, index)
        seen.append(f"one thread {one:.1f}/s, two threads {two:.1f}/s (ratio {two / one:.2f})")
        print(seen[-1], flush=True)
        if two / one > 1.2:
            return
    raise AssertionError("two threads were not faster than one: " + "; ".join(seen))


if __name__ == "__main__":
    two_threads_render_faster_than_one()
