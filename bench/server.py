"""Serve Emporium (or the baseline) under waitress in several processes that share one
listening socket: the way docs/performance.md runs several processes per machine.

    .venv/bin/python bench/server.py INI [--app emporium|baseline] [--listen HOST:PORT]
                                         [--processes 2] [--threads N]

Python runs one thread at a time per process, so a machine's cores are used by
processes, not threads. The parent binds the socket once, then forks the workers;
each builds the application itself (its own connection pool, its own plugin
watcher thread) and serves the shared socket with waitress, configured from the
ini's ``[server:main]`` (``--threads`` overrides its ``threads``). The operating
system gives each new connection to whichever worker accepts it first. Prints
``ready HOST:PORT`` once every worker serves (port 0 picks a free one); SIGTERM or
SIGINT stops them all, and a worker that dies stops the server.
"""
import argparse
import os
import pathlib
import signal
import socket
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOT_FOR_WAITRESS = {"use", "listen", "host", "port", "__file__", "here"}


def load_app(kind, ini):
    from pyramid.paster import get_app, get_appsettings, setup_logging

    setup_logging(ini)
    if kind == "baseline":
        sys.path.insert(0, str(ROOT))
        from bench.baseline import make_app

        return make_app(get_appsettings(ini))
    return get_app(ini)


def preload(kind):
    """Import what every worker needs before forking them, so that they share it and
    start faster; nothing that opens a connection or starts a thread."""
    import importlib
    from importlib.metadata import entry_points

    import pyramid.paster  # noqa: F401
    import waitress  # noqa: F401

    if kind == "emporium":
        import core.config  # noqa: F401

        for entry in entry_points(group="emporium.plugins"):
            module = entry.load()
            for part in ("hooks", "views", "models"):
                try:
                    importlib.import_module(f"{module.__name__}.{part}")
                except ImportError:
                    pass


def server_settings(ini, threads):
    import plaster

    settings = {k: v for k, v in plaster.get_settings(ini, "server:main").items()
                if k not in NOT_FOR_WAITRESS}
    if threads:
        settings["threads"] = threads
    return settings


def _die_with_parent():
    # a worker must not outlive the parent, even one killed without a chance to clean up
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def worker(args, sock, ready):
    import waitress

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _die_with_parent()
    app = load_app(args.app, args.ini)
    server = waitress.create_server(app, sockets=[sock],
                                    **server_settings(args.ini, args.threads))
    os.write(ready, b"1")
    os.close(ready)
    server.run()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ini")
    parser.add_argument("--app", choices=["emporium", "baseline"], default="emporium")
    parser.add_argument("--listen", default="127.0.0.1:0")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, help="default: threads of [server:main]")
    args = parser.parse_args()

    preload(args.app)
    host, _, port = args.listen.rpartition(":")
    host = host.strip("[]")  # [::1]:6543
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, int(port)), family=family, backlog=2048)
    ready_read, ready_write = os.pipe()
    children = []
    for _ in range(args.processes):
        pid = os.fork()
        if pid == 0:
            os.close(ready_read)
            try:
                worker(args, sock, ready_write)
            finally:
                os._exit(1)
        children.append(pid)
    os.close(ready_write)

    stopping = False

    def stop(signum=None, frame=None):
        nonlocal stopping
        stopping = True
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    started = 0
    while started < len(children):
        data = os.read(ready_read, 64)
        if not data:  # every worker closed its end: one failed before serving
            stop()
            break
        started += len(data)
    else:
        shown = f"[{host}]" if family == socket.AF_INET6 else host
        print(f"ready {shown}:{sock.getsockname()[1]}", flush=True)
    status = 0 if started == len(children) else 1
    while children:
        try:
            pid, code = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        children.remove(pid)
        if not stopping:
            print(f"server: worker {pid} exited ({code}); stopping", file=sys.stderr)
            status = 1
            stop()
    sys.exit(status)


if __name__ == "__main__":
    main()
