#!/usr/bin/env python3
"""A delaying TCP proxy on loopback: bench/run's latency mode (BENCH_RTT_MS).

Usage: delay.py --rtt-ms MS --target HOST:PORT [--listen HOST:PORT] [--port-file FILE]
       delay.py --ping HOST:PORT [--count N]

Listens (default 127.0.0.1, a free port; the port is written to --port-file once listening) and
forwards every connection to --target. Each chunk read from either side is stamped with the time
it arrived and written to the other side at arrival + MS/2, in order: a round trip through the
proxy takes MS longer, but any number of bytes can be in flight, so a client that pipelines its
requests sees the latency, not a throughput cap of one chunk per delay. Reading pauses only when
a direction holds more than --max-queued-mb MiB not yet released (default 128; it resumes at half:
at 50 ms one way that still allows over 1 GiB/s, far more than one SSH connection moves here), or
when the receiving side does not take the bytes (the sender then sees the real TCP window). The
proxy itself (one Python thread) moves roughly 500-800 MiB/s on a loaded 2-core machine.
Half-closes (EOF) are delayed and passed on like data; a reset closes both sides.

On SIGTERM/SIGINT it prints one line of totals to stderr (connections, bytes each way, the most
bytes held in one direction) and exits. Python only, no external packages.

--ping measures the round trip to an SSH server N times (default 10), each on a new connection:
read its version line, send ours, and time until the first bytes of its KEXINIT arrive (sshd sends
it once it has our version): one round trip, plus sshd's reaction. Prints "median min max" in ms.
"""
import argparse
import asyncio
import collections
import os
import signal
import sys

CHUNK = 256 * 1024


class Totals:
    def __init__(self):
        self.conns = 0
        self.up = 0        # client -> target bytes
        self.down = 0      # target -> client bytes
        self.max_held = 0  # most bytes held (received, not yet released) in one direction


async def direction(reader, writer, delay, limit, totals, up):
    """Copies reader -> writer, each chunk released `delay` seconds after it arrived."""
    loop = asyncio.get_running_loop()
    queue = collections.deque()  # (release time, bytes or None for EOF)
    held = 0
    arrived = asyncio.Event()
    room = asyncio.Event()
    room.set()

    async def receive():
        nonlocal held
        try:
            while True:
                await room.wait()
                data = await reader.read(CHUNK)
                queue.append((loop.time() + delay, data or None))
                arrived.set()
                if not data:
                    return
                held += len(data)
                if up:
                    totals.up += len(data)
                else:
                    totals.down += len(data)
                if held > totals.max_held:
                    totals.max_held = held
                if held > limit:
                    room.clear()
        except (ConnectionError, OSError):
            queue.append((loop.time() + delay, None))
            arrived.set()

    async def release():
        nonlocal held
        while True:
            while not queue:
                arrived.clear()
                await arrived.wait()
            when, data = queue[0]
            wait = when - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            # everything already due goes out in one write
            now = loop.time()
            out = []
            eof = False
            while queue and queue[0][0] <= now:
                _, data = queue.popleft()
                if data is None:
                    eof = True
                    break
                out.append(data)
            if out:
                buf = b"".join(out)
                held -= len(buf)
                writer.write(buf)
                if held <= limit // 2:
                    room.set()
                await writer.drain()
            if eof:
                if writer.can_write_eof():
                    writer.write_eof()
                return

    rx = asyncio.ensure_future(receive())
    try:
        await release()
    finally:
        rx.cancel()


async def handle(creader, cwriter, args, totals):
    totals.conns += 1
    host, port = args.target.rsplit(":", 1)
    try:
        treader, twriter = await asyncio.open_connection(host, int(port), limit=4 * CHUNK)
    except OSError as e:
        print("delay.py: cannot connect to %s: %s" % (args.target, e), file=sys.stderr)
        cwriter.close()
        return
    delay = args.rtt_ms / 2000.0
    limit = args.max_queued_mb << 20
    tasks = [asyncio.ensure_future(direction(creader, twriter, delay, limit, totals, True)),
             asyncio.ensure_future(direction(treader, cwriter, delay, limit, totals, False))]
    try:
        pending = tasks
        while pending:
            finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if any(t.exception() is not None for t in finished):
                break  # a reset or write error: close both sides
    except asyncio.CancelledError:
        pass
    finally:
        for t in tasks:
            t.cancel()
        for w in (cwriter, twriter):
            try:
                w.close()
            except Exception:
                pass


def ping(target, count):
    import socket
    import statistics
    import time
    host, port = target.rsplit(":", 1)
    times = []
    for _ in range(count):
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            f = s.makefile("rb")
            while not f.readline().startswith(b"SSH-"):
                pass
            t0 = time.perf_counter()
            s.sendall(b"SSH-2.0-jam_bench_ping\r\n")
            if not s.recv(1):
                raise SystemExit("delay.py --ping: %s closed the connection" % target)
            times.append((time.perf_counter() - t0) * 1000)
    print("%.2f %.2f %.2f" % (statistics.median(times), min(times), max(times)))


async def main():
    p = argparse.ArgumentParser(description="delaying TCP proxy (bench latency mode)")
    p.add_argument("--ping", metavar="HOST:PORT", help="measure the round trip to an SSH server and exit")
    p.add_argument("--count", type=int, default=10, help="--ping: connections")
    p.add_argument("--rtt-ms", type=float, help="round-trip delay added, ms (half each way)")
    p.add_argument("--target", help="HOST:PORT to forward to")
    p.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT to listen on (default 127.0.0.1, a free port)")
    p.add_argument("--port-file", help="write the listening port here once listening")
    p.add_argument("--max-queued-mb", type=int, default=128, help="MiB held per direction before reading pauses")
    args = p.parse_args()
    if args.ping:
        ping(args.ping, args.count)
        return
    if args.rtt_ms is None or not args.target:
        p.error("--rtt-ms and --target are needed")
    totals = Totals()
    lhost, lport = args.listen.rsplit(":", 1)
    server = await asyncio.start_server(lambda r, w: handle(r, w, args, totals), lhost, int(lport),
                                        limit=4 * CHUNK)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.replace(args.port_file + ".tmp", args.port_file)
    print("delay.py: 127.0.0.1:%d -> %s, %g ms round trip (%g ms each way)"
          % (port, args.target, args.rtt_ms, args.rtt_ms / 2), file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    await stop.wait()
    server.close()
    print("delay.py: stopped; %d connections, %.1f MiB client->server, %.1f MiB server->client, "
          "at most %.1f MiB held in one direction"
          % (totals.conns, totals.up / 1048576, totals.down / 1048576, totals.max_held / 1048576),
          file=sys.stderr, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
