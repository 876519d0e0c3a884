# SPDX-License-Identifier: Apache-2.0
"""A hostile Redis-protocol service for BrokerRedisTests: it logs in normally, then answers commands badly.

usage: hostile_redis.py MODE PORT_FILE
MODE: garbage (a reply that is not RESP), huge (a bulk string announced as 2 GB and streamed), wide (an array of
2 billion elements), unsolicited (replies nobody asked for), deep (arrays nested beyond any sane depth),
wrongtype (an array where a status is expected).
"""
import socket
import sys
import threading

MODE, PORT_FILE = sys.argv[1], sys.argv[2]


def read_command(f):
    line = f.readline()
    if not line:
        return None
    if not line.startswith(b"*"):
        return [line.strip()]
    args = []
    for _ in range(int(line[1:])):
        size = int(f.readline()[1:])
        args.append(f.read(size + 2)[:-2])
    return args


def serve(conn):
    f = conn.makefile("rb")
    try:
        while True:
            cmd = read_command(f)
            if cmd is None:
                return
            name = cmd[0].upper()
            if name in (b"AUTH", b"SELECT"):
                conn.sendall(b"+OK\r\n")
            elif name == b"PING":
                conn.sendall(b"+PONG\r\n")
            elif MODE == "garbage":
                conn.sendall(b"?this is not RESP\r\n")
            elif MODE == "huge":
                conn.sendall(b"$2000000000\r\n")
                chunk = b"x" * 65536
                for _ in range(64):  # 4 MiB, well past the 1 MiB cap
                    conn.sendall(chunk)
            elif MODE == "wide":
                conn.sendall(b"*2000000000\r\n")
            elif MODE == "unsolicited":
                conn.sendall(b"+OK\r\n+OK\r\n+OK\r\n")
            elif MODE == "deep":
                conn.sendall(b"*1\r\n" * 64 + b":1\r\n")
            elif MODE == "wrongtype":
                conn.sendall(b"*1\r\n$2\r\nno\r\n")
    except OSError:
        return
    finally:
        conn.close()


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    with open(PORT_FILE + ".tmp", "w") as out:
        out.write(str(listener.getsockname()[1]))
    import os
    os.rename(PORT_FILE + ".tmp", PORT_FILE)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
