#!/usr/bin/env python3
"""A tiny authoritative DNS server for tests: UDP and TCP on 127.0.0.1, one port.

    dns_server.py --zone ZONE.json --port-file P [--counts-file C]
    dns_server.py --write-seeds DIR      (sample answers: the fuzz seed corpus)

Once both sockets are bound, the port is written to P (atomically). After every
query C holds {"total": N, "tcp": N, "by": {"name/TYPE": N}}, so a test can
check that a cached answer asked the server nothing.

The zone (JSON):
    {"ttl": 300, "soa_minimum": 30,
     "names": {"example.test": {"MX": [[10, "mx1.example.test"]], "A": ["192.0.2.1"],
                                "AAAA": ["2001:db8::1"], "TXT": [["v=STSv1;", " id=1"]],
                                "TLSA": [[3, 1, 1, "ab12..."]], "CNAME": "other.test",
                                "ttl": 60}},
     "servfail": [names], "drop": [names never answered: a timeout],
     "truncate": [names answered over UDP with TC and nothing else],
     "ad": [names whose answers carry the AD bit]}
Unknown names get NXDOMAIN, a known name without the asked type NODATA, both with
an SOA whose MINIMUM is soa_minimum (RFC 2308). CNAMEs are followed inside the zone.
"""

import argparse
import ipaddress
import json
import os
import socket
import struct
import sys
import threading

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28,
         "TLSA": 52}
TYPE_NAMES = {v: k for k, v in TYPES.items()}


def encode_name(name):
    out = b""
    for label in [l for l in name.rstrip(".").split(".") if l]:
        raw = label.encode()
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def rdata(rtype, value):
    if rtype == "A":
        return ipaddress.IPv4Address(value).packed
    if rtype == "AAAA":
        return ipaddress.IPv6Address(value).packed
    if rtype == "MX":
        return struct.pack("!H", value[0]) + encode_name(value[1])
    if rtype in ("CNAME", "NS", "PTR"):
        return encode_name(value)
    if rtype == "TXT":
        parts = [value] if isinstance(value, str) else value
        return b"".join(bytes([len(p.encode())]) + p.encode() for p in parts)
    if rtype == "TLSA":
        return bytes(value[:3]) + bytes.fromhex(value[3])
    raise ValueError(rtype)


def record(owner, rtype, ttl, data):
    return encode_name(owner) + struct.pack("!HHIH", TYPES[rtype], 1, ttl, len(data)) + data


def soa(zone):
    data = encode_name("ns.test") + encode_name("hostmaster.test") + \
        struct.pack("!IIIII", 1, 3600, 600, 86400, zone.get("soa_minimum", 30))
    return record("test", "SOA", zone.get("ttl", 300), data)


def parse_query(q):
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
        i += 1 + q[i]
    qtype, _ = struct.unpack("!HH", q[i + 1:i + 5])
    return qid, flags, ".".join(labels).lower(), qtype, q[12:i + 5]


def answer(zone, q, tcp):
    """The response bytes for query q, or None to stay silent."""
    qid, qflags, qname, qtype, question = parse_query(q)
    names = zone.get("names", {})
    if qname in zone.get("drop", []):
        return None
    flags = 0x8400 | (qflags & 0x0100)  # QR, AA, RD copied
    if qname in zone.get("ad", []):
        flags |= 0x0020
    answers, authority, rcode = [], [], 0
    if qname in zone.get("servfail", []):
        rcode = 2
    elif not tcp and qname in zone.get("truncate", []):
        flags |= 0x0200
    else:
        name, hops = qname, 0
        while name in names and hops < 8:
            entry = names[name]
            ttl = entry.get("ttl", zone.get("ttl", 300))
            tname = TYPE_NAMES.get(qtype)
            if tname in entry and tname != "CNAME":
                answers += [record(name, tname, ttl, rdata(tname, v)) for v in entry[tname]]
                break
            if "CNAME" in entry:
                answers.append(record(name, "CNAME", ttl, rdata("CNAME", entry["CNAME"])))
                if tname == "CNAME":
                    break
                name, hops = entry["CNAME"].rstrip(".").lower(), hops + 1
                continue
            break
        if qname not in names:
            rcode = 3
        if not answers or (rcode == 0 and name not in names):
            authority.append(soa(zone))
    header = struct.pack("!HHHHHH", qid, flags | rcode, 1, len(answers), len(authority), 0)
    return header + question + b"".join(answers) + b"".join(authority)


class Server:
    def __init__(self, zone, counts_file):
        self.zone, self.counts_file = zone, counts_file
        self.lock = threading.Lock()
        self.counts = {"total": 0, "tcp": 0, "by": {}}

    def count(self, q, tcp):
        try:
            _, _, qname, qtype, _ = parse_query(q)
        except (IndexError, struct.error):
            return
        with self.lock:
            self.counts["total"] += 1
            self.counts["tcp"] += 1 if tcp else 0
            key = "%s/%s" % (qname, TYPE_NAMES.get(qtype, str(qtype)))
            self.counts["by"][key] = self.counts["by"].get(key, 0) + 1
            if self.counts_file:
                tmp = self.counts_file + ".tmp"
                with open(tmp, "w") as f:
                    json.dump(self.counts, f)
                os.replace(tmp, self.counts_file)

    def respond(self, q, tcp):
        self.count(q, tcp)
        try:
            return answer(self.zone, q, tcp)
        except (IndexError, struct.error, ValueError):
            return None

    def serve_udp(self, sock):
        while True:
            q, peer = sock.recvfrom(4096)
            r = self.respond(q, False)
            if r is not None:
                sock.sendto(r, peer)

    def serve_tcp_conn(self, conn):
        with conn:
            while True:
                head = conn.recv(2, socket.MSG_WAITALL)
                if len(head) < 2:
                    return
                q = conn.recv(struct.unpack("!H", head)[0], socket.MSG_WAITALL)
                r = self.respond(q, True)
                if r is not None:
                    conn.sendall(struct.pack("!H", len(r)) + r)

    def serve_tcp(self, sock):
        while True:
            conn, _ = sock.accept()
            threading.Thread(target=self.serve_tcp_conn, args=(conn,), daemon=True).start()


def bind_pair():
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind(("127.0.0.1", port))
        except OSError:
            udp.close()
            tcp.close()
            continue
        tcp.listen(16)
        return udp, tcp, port
    raise SystemExit("dns_server: no free port pair")


def write_seeds(directory):
    zone = {"names": {
        "example.test": {"MX": [[10, "mx1.example.test"], [10, "mx2.example.test"]],
                         "A": ["192.0.2.1"], "TXT": [["v=STSv1;", " id=20240101"]]},
        "mx1.example.test": {"AAAA": ["2001:db8::1", "2001:db8::2"]},
        "alias.test": {"CNAME": "example.test"},
        "null.test": {"MX": [[0, "."]]},
        "_25._tcp.mx1.example.test": {"TLSA": [[3, 1, 1, "00" * 32]]}},
        "ad": ["example.test"], "truncate": ["example.test"]}
    cases = [("example.test", 15), ("mx1.example.test", 28), ("alias.test", 1),
             ("null.test", 15), ("_25._tcp.mx1.example.test", 52), ("example.test", 16),
             ("nope.test", 1), ("mx1.example.test", 1)]
    os.makedirs(directory, exist_ok=True)
    for n, (name, qtype) in enumerate(cases):
        q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + encode_name(name) + \
            struct.pack("!HH", qtype, 1)
        with open(os.path.join(directory, "answer%02d.bin" % n), "wb") as f:
            f.write(answer(zone, q, True))
    q = struct.pack("!HHHHHH", 1, 0x0100, 1, 0, 0, 0) + encode_name("example.test") + \
        struct.pack("!HH", 15, 1)
    with open(os.path.join(directory, "truncated.bin"), "wb") as f:
        f.write(answer(zone, q, False))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zone")
    ap.add_argument("--port-file")
    ap.add_argument("--counts-file")
    ap.add_argument("--write-seeds")
    a = ap.parse_args()
    if a.write_seeds:
        write_seeds(a.write_seeds)
        return
    with open(a.zone) as f:
        zone = json.load(f)
    server = Server(zone, a.counts_file)
    udp, tcp, port = bind_pair()
    threading.Thread(target=server.serve_tcp, args=(tcp,), daemon=True).start()
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, a.port_file)
    server.serve_udp(udp)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
