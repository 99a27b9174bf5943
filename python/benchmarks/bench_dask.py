#!/usr/bin/env python3
"""python/benchmarks/bench_dask.py — files/s of attend.dask with 1 and 2 worker processes
against the `attend` command line on the same files (a benchmark that prints figures, not a test).

    PYTHONPATH=build/python /usr/bin/python3 python/benchmarks/bench_dask.py [--files 200] [--repeats 3]

Inputs: --files text files of --sentences sentences each, cut from Multi30k test2016 (../shared)
or --source FILE. Every configuration writes into a fresh output folder (nothing is skipped) and
is run --repeats times; the median is printed. The CLI runs include process start and model
load; Dask "cold" is the first job on a new cluster (workers load the model), "warm" the later
ones (the model stays loaded in each worker). The outputs of every run are checked byte for byte
against the CLI's. "CPU s" is the user+system time the run used (the CLI process; the worker
processes and this client for Dask), which a busy machine disturbs less than wall time.
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def tree(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            with open(os.path.join(d, f), "rb") as fh:
                out[os.path.relpath(os.path.join(d, f), root)] = fh.read()
    return out


def make_inputs(folder, source, files, per_file):
    with open(source, encoding="utf-8") as f:
        lines = [line.strip() for line in f if line.strip()]
    os.makedirs(folder)
    for i in range(files):
        chunk = [lines[(i * per_file + k) % len(lines)] for k in range(per_file)]
        with open(os.path.join(folder, f"doc{i:04d}.txt"), "w", encoding="utf-8") as f:
            f.write(" ".join(chunk) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--sentences", type=int, default=5, help="sentences per file")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--model", default=None, help="default: the bundled model")
    ap.add_argument("--cli", default=os.path.join(REPO, "build", "attend"))
    ap.add_argument("--source", default=os.path.join(REPO, "..", "shared", "data", "multi30k", "test_2016_flickr.en"))
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="cores to use in every configuration")
    ap.add_argument("--omp-wait-policy", choices=["active", "passive"],
                    help="OMP_WAIT_POLICY for the CLI and the workers (default: the library's, active)")
    args = ap.parse_args()
    if args.omp_wait_policy:
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy  # inherited by the CLI and the worker processes

    import attend
    import attend.dask as ad
    from distributed import Client, LocalCluster

    model = args.model or attend.default_model_path()
    work = tempfile.mkdtemp(prefix="attend-bench-dask-")
    try:
        src = os.path.join(work, "in")
        make_inputs(src, args.source, args.files, args.sentences)
        rows = []

        def cpu(who):
            r = resource.getrusage(who)
            return r.ru_utime + r.ru_stime

        def cli_run(threads, out):
            c0, t0 = cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
            subprocess.run([args.cli, "translate", "-m", model, src, "--out-dir", out, "--threads", str(threads)],
                           check=True, capture_output=True)
            return time.perf_counter() - t0, cpu(resource.RUSAGE_CHILDREN) - c0

        def worker_cpu(client):
            return sum(client.run(cpu, resource.RUSAGE_SELF).values()) + cpu(resource.RUSAGE_SELF)

        reference = None
        for threads in sorted({1, args.cores}):
            runs = []
            for k in range(args.repeats):
                out = os.path.join(work, f"cli{threads}-{k}")
                runs.append(cli_run(threads, out))
                reference = reference or tree(out)
            rows.append((f"CLI, 1 process x {threads} thread(s)", statistics.median(r[0] for r in runs),
                         statistics.median(r[1] for r in runs)))

        for workers in (1, 2):
            threads = max(1, args.cores // workers)
            cluster = LocalCluster(n_workers=workers, processes=True, threads_per_worker=1, host="127.0.0.1",
                                   dashboard_address=":0", silence_logs=40)
            try:
                with Client(cluster) as client:
                    runs = []
                    for k in range(args.repeats + 1):
                        out = os.path.join(work, f"dask{workers}-{k}")
                        c0, t0 = worker_cpu(client), time.perf_counter()
                        rep = ad.translate_files(client, [src], out, model, threads=threads, progress=False)
                        runs.append((time.perf_counter() - t0, worker_cpu(client) - c0))
                        assert rep.ok and len(rep.done) == args.files, rep
                        assert tree(out) == reference, "Dask outputs differ from the CLI's"
                    rows.append((f"Dask, {workers} worker process(es) x {threads} thread(s), cold", *runs[0]))
                    rows.append((f"Dask, {workers} worker process(es) x {threads} thread(s), warm",
                                 statistics.median(r[0] for r in runs[1:]), statistics.median(r[1] for r in runs[1:])))
            finally:
                cluster.close()

        cli_all = [r for r in rows if r[0].startswith("CLI") and f"x {args.cores} thread" in r[0]][0][1]
        print(f"# {args.files} files x {args.sentences} sentences, model {os.path.basename(model)}, "
              f"{args.cores} core(s), OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}, "
              f"median of {args.repeats} (cold: 1 run); outputs identical to the CLI's")
        print(f"{'configuration':<52} {'seconds':>8} {'files/s':>8} {'vs CLI':>7} {'CPU s':>7}")
        for name, sec, cpu_s in rows:
            print(f"{name:<52} {sec:8.2f} {args.files / sec:8.1f} {cli_all / sec:7.2f} {cpu_s:7.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
