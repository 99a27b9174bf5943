"""tests/python/test_interrupt.py — Ctrl-C: SIGINT to a child process in the middle of a long
translation raises KeyboardInterrupt within a decoding step or so (the call is cancelled, not
waited for), and the model works afterwards; the same for a streaming translation."""
import os
import signal
import subprocess
import sys
import time

CHILD = r"""
import sys, time
import attend
m = attend.Model(sys.argv[1], threads=1)
m.translate("A dog.")
for phase in ("translate", "stream"):
    print("ready", phase, flush=True)
    t0 = time.monotonic()
    try:
        if phase == "translate":
            m.translate(["A dog runs across the grass."] * 64, min_length=500, max_length=500)
        else:
            for _ in m.translate_stream("A dog runs across the grass.", beam_size=4, min_length=500, max_length=500):
                pass
        print("finished", phase, time.monotonic() - t0, flush=True)
    except KeyboardInterrupt:
        print("interrupted", phase, time.monotonic(), flush=True)
print("after", m.translate("A dog runs in the park.").text, flush=True)
"""


def test_sigint_cancels_a_long_call_quickly(bundled_path, bundled):
    env = dict(os.environ)
    p = subprocess.Popen([sys.executable, "-c", CHILD, bundled_path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    try:
        delays = {}
        for phase in ("translate", "stream"):
            line = p.stdout.readline().split()
            assert line == ["ready", phase], (line, p.stderr.read() if p.poll() is not None else "")
            time.sleep(0.5)
            sent = time.monotonic()
            p.send_signal(signal.SIGINT)
            line = p.stdout.readline().split()
            assert line[:2] == ["interrupted", phase], line
            delays[phase] = float(line[2]) - sent
        after = p.stdout.readline()
        assert after.strip() == "after " + bundled.translate("A dog runs in the park.").text
        assert p.wait(timeout=30) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    # Undisturbed, 64 inputs x 500 steps with beam 4 take many seconds; a step takes milliseconds.
    assert all(0 <= d < 1.5 for d in delays.values()), delays
