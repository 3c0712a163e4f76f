"""Hostile clients of the guest gdb port (COM2, the VMM's gdb stub), for
the gdb-port-* tests (grade/debugging.py).

A test keeps one TCP connection (PortClient) to the port for its whole
run: Bochs' socket-server COM2 serves the first client only. On it the
test runs attacks, one at a time, each in a thread of its own until the
test stops it: a flood of valid packets, a drip of one byte every 5 ms
inside packets that restart before they end, random bytes, and a client
that asks for large replies and never reads them. Afterwards the same
connection carries a real gdb (relay_gdb), which shows that the stub
recovered.

Nothing here judges the host: the test does, by typing into the host
shell while an attack runs. The counters here (bytes sent, replies
read) show that an attack really ran.
"""

import random
import socket
import threading
import time

# Small socket buffers, so that a client that does not read fills the
# whole path back (its socket, the emulator's, COM2's rings) after a few
# replies instead of after megabytes, and what a flood leaves queued on
# the way in when it stops is tens of KiB, not megabytes (the stub would
# still be working through it minutes later).
CLIENT_RCVBUF = 4096
CLIENT_SNDBUF = 4096
# How long one send or receive may block before the thread looks at its
# stop flag again.
POLL_S = 0.2
# The drip: one byte every DRIP_S seconds, and a fresh '$' after
# DRIP_RESTART payload bytes, long before the stub's 4096-byte limit.
DRIP_S = 0.005
DRIP_RESTART = 200
# Guest-physical (and, before the guest pages, guest-virtual) address of
# the guest kernel's first bytes (vmm loads it there), and the largest
# read a reply carries (PKT_MAX / 2 bytes, 4096 hex digits).
GUEST_KERNEL_GPA = 0x100000
BIG_READ = 0x800
BIG_REPLY_HEX = 2 * BIG_READ
GARBAGE_SEED = 19
GARBAGE_CHUNK = 256
# The never-read client's requests: each asks for a BIG_READ, so their
# replies (about 190 KiB) overfill every buffer on the way back.
NEVER_READ_REQUESTS = 48


def packet(payload):
    """PAYLOAD framed as gdb sends it: $payload#checksum."""
    data = payload.encode()
    return b"$" + data + b"#" + (b"%02x" % (sum(data) & 0xFF))


# The flood: these three requests over and over, each answered with one
# reply, at most FLOOD_WINDOW of them unanswered at a time. That keeps
# the stub's per-tick budget busy every tick (it takes a few per tick)
# while what is still queued when the flood stops is a few hundred bytes:
# sent as fast as the sockets take them, 128 KiB of requests would sit
# in the emulator's socket and keep the stub answering for minutes
# after the test stopped asking.
FLOOD = [packet("?"), packet("g"), packet("m%x,40" % GUEST_KERNEL_GPA)]
FLOOD_WINDOW = 64
# Garbage goes at this rate: more than the stub takes from noise (about
# 9 KiB/s under QEMU: noise holds a bad packet or a Ctrl-C every few
# hundred bytes, and each counts as one of the few events per tick), so
# its budget is spent every tick, without megabytes queued in the
# sockets.
GARBAGE_RATE = 16 * 1024


class PortClient:
    """The test's connection to the guest gdb port."""

    def __init__(self, port, timeout=60.0):
        limit = time.monotonic() + timeout
        while True:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CLIENT_RCVBUF)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CLIENT_SNDBUF)
            try:
                s.connect(("127.0.0.1", port))
                break
            except OSError:
                s.close()
                if time.monotonic() > limit:
                    raise
                time.sleep(0.1)
        s.settimeout(POLL_S)
        self.sock = s
        self.sent = 0
        self.received = bytearray()
        self.blocked = 0          # sends that found the path full
        self._stop = threading.Event()
        self._threads = []

    # -- background work ---------------------------------------------------

    def _spawn(self, fn):
        t = threading.Thread(target=fn, daemon=True)
        self._threads.append(t)
        t.start()

    def stop(self):
        """Stop the attack and the reader; wait for their threads."""
        self._stop.set()
        for t in self._threads:
            t.join(10)
        self._threads = []
        self._stop.clear()

    def _send(self, data):
        """Send DATA unless stopped; a send the path cannot take now is
        retried (and counted in self.blocked)."""
        while data and not self._stop.is_set():
            try:
                n = self.sock.send(data)
            except socket.timeout:
                self.blocked += 1
                continue
            self.sent += n
            data = data[n:]

    def _reader(self):
        while not self._stop.is_set():
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                return
            self.received += chunk

    def replies(self):
        """Packets read so far ('$' starts each; no reply holds one)."""
        return self.received.count(b"$")

    # -- the attacks -------------------------------------------------------

    def start(self, name):
        """Start attack NAME (flood, drip, garbage, never-read) and,
        except for never-read, a reader that takes every reply."""
        self.received = bytearray()
        self.sent = 0
        self.blocked = 0
        attack = {"flood": self._flood, "drip": self._drip,
                  "garbage": self._garbage,
                  "never-read": self._never_read}[name]
        if name != "never-read":
            self._spawn(self._reader)
        self._spawn(attack)

    def _flood(self):
        asked = 0
        while not self._stop.is_set():
            if asked - self.replies() >= FLOOD_WINDOW:
                time.sleep(0.001)
                continue
            self._send(FLOOD[asked % len(FLOOD)])
            asked += 1

    def _drip(self):
        body = ("m%x,40" % GUEST_KERNEL_GPA).encode() * DRIP_RESTART
        while not self._stop.is_set():
            for b in b"$" + body[:DRIP_RESTART]:
                if self._stop.is_set():
                    return
                self._send(bytes([b]))
                time.sleep(DRIP_S)

    def _garbage(self):
        rng = random.Random(GARBAGE_SEED)
        start = time.monotonic()
        while not self._stop.is_set():
            if self.sent > (time.monotonic() - start) * GARBAGE_RATE:
                time.sleep(GARBAGE_CHUNK / GARBAGE_RATE)
                continue
            self._send(bytes(rng.getrandbits(8)
                             for _ in range(GARBAGE_CHUNK)))

    def _never_read(self):
        for _ in range(NEVER_READ_REQUESTS):
            self._send(packet("m%x,%x" % (GUEST_KERNEL_GPA, BIG_READ)))

    def big_replies(self):
        """Replies in self.received that carry a whole BIG_READ."""
        n = 0
        for part in bytes(self.received).split(b"$")[1:]:
            if len(part.split(b"#")[0]) == BIG_REPLY_HEX:
                n += 1
        return n

    # -- afterwards --------------------------------------------------------

    def drain(self, quiet, limit):
        """Read until nothing came for QUIET seconds (at most LIMIT
        seconds in all); the bytes are added to self.received."""
        end = time.monotonic() + limit
        last = time.monotonic()
        while time.monotonic() < end and time.monotonic() - last < quiet:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                break
            self.received += chunk
            last = time.monotonic()

    def relay_gdb(self):
        """Listen on a local port and, for the first client there (gdb),
        pass bytes both ways between it and the guest gdb port. Returns
        the local port."""
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        lsock.settimeout(60)

        def pump(src, dst):
            while not self._stop.is_set():
                try:
                    data = src.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not data:
                    return
                while data and not self._stop.is_set():
                    try:
                        data = data[dst.send(data):]
                    except socket.timeout:
                        continue
                    except OSError:
                        return

        def serve():
            try:
                conn, _ = lsock.accept()
            except OSError:
                return
            finally:
                lsock.close()
            conn.settimeout(POLL_S)
            t = threading.Thread(target=pump, args=(self.sock, conn),
                                 daemon=True)
            t.start()
            pump(conn, self.sock)
            conn.close()
            t.join(5)

        self._spawn(serve)
        return lsock.getsockname()[1]

    def close(self):
        self.stop()
        self.sock.close()
