#!/usr/bin/python3
"""Drive Debian's python3-libtorrent for the archivd interop tests.

Loopback only: no DHT, LSD, UPnP, NAT-PMP; PEX off per torrent; listens on
127.0.0.1. One JSON argument selects the mode:

  create   {"mode":"create","path":P,"out":F,"piece_length":N,"tracker":URL}
           v1-only; "hybrid": true makes libtorrent's default instead, a
           v1+v2 hybrid (BEP 52, with BEP 47 pad files in the v1 part).
  check    {"mode":"check","torrent":F,"save_path":D}
           hash the files (force recheck) and print the result, exit.
  seed     {"mode":"seed","torrent":F,"save_path":D,"port":N,"peers":[...]}
           check, then seed until killed; prints status lines; dials
           the optional peers every 5 s (a seed that is told where the
           leecher is: no tracker needed).
  download {"mode":"download","torrent":F,"save_path":D,"port":N,"peers":["127.0.0.1:P"]}
           download, print status lines, exit 0 when every piece is had.

  many     {"mode":"many","torrent_dir":D,"save_path":S,"resume_dir":R,"port":N}
           add every *.torrent of D (with R/<file>.resume as resume data
           when present), print {"done":true,...} once all of them seed,
           then write every torrent's resume data to R and exit
           (benchmarks: restart from resume data).

Optional "tcp_only": true turns uTP off (benchmarks); "no_tracker": true
drops the torrent's trackers, so a leecher talks only to the peers it is
given (benchmarks: two leechers must not feed each other); "host":
"127.0.0.N" binds the session to another loopback address (transmission
takes one connection per peer address); "upload_rate_limit" and
"download_rate_limit" (bytes/s, 0 = none) pace the session so that a
transfer lasts (outage tests).

Every line printed is one JSON object; the last one of check/download
carries "done": true.
"""
import json
import sys
import time

import libtorrent as lt


def session(port, tcp_only=False, host="127.0.0.1", a=None):
    a = a or {}
    s = lt.session({
        "upload_rate_limit": a.get("upload_rate_limit", 0),
        "download_rate_limit": a.get("download_rate_limit", 0),
        "outgoing_interfaces": host,
        "enable_outgoing_utp": not tcp_only,
        "enable_incoming_utp": not tcp_only,
        "listen_interfaces": "%s:%d" % (host, port),
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": lt.alert.category_t.error_notification,
    })
    return s


def status(h, **extra):
    st = h.status()
    d = {
        "state": str(st.state),
        "progress": st.progress,
        "pieces": st.num_pieces,
        "num_pieces": h.torrent_file().num_pieces() if h.torrent_file() else 0,
        "seeding": st.is_seeding,
        "peers": st.num_peers,
        "downloaded": st.total_payload_download,
        "uploaded": st.total_payload_upload,
        "error": st.errc.message() if st.errc.value() else "",
    }
    d.update(extra)
    print(json.dumps(d), flush=True)
    return st


def add(s, a, flags=0):
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(a["torrent"])
    p.save_path = a["save_path"]
    p.flags = (p.flags | lt.torrent_flags.disable_pex | lt.torrent_flags.disable_dht
               | lt.torrent_flags.disable_lsd | flags)
    h = s.add_torrent(p)
    if a.get("no_tracker"):
        h.replace_trackers([])
    return h


def checking(st):
    return st.state in (lt.torrent_status.checking_files,
                        lt.torrent_status.checking_resume_data)


def create(a):
    fs = lt.file_storage()
    lt.add_files(fs, a["path"])
    flags = 0 if a.get("hybrid") else lt.create_torrent.v1_only
    ct = lt.create_torrent(fs, a["piece_length"], flags=flags)
    if a.get("tracker"):
        ct.add_tracker(a["tracker"])
    parent = a["path"].rstrip("/").rsplit("/", 1)[0]
    lt.set_piece_hashes(ct, parent)
    with open(a["out"], "wb") as f:
        f.write(lt.bencode(ct.generate()))
    print(json.dumps({"done": True}), flush=True)


def check(a):
    s = session(0)
    h = add(s, a, lt.torrent_flags.paused)
    h.force_recheck()
    h.resume()
    time.sleep(0.2)
    while True:
        st = h.status()
        if not checking(st) and st.state != lt.torrent_status.checking_files:
            break
        time.sleep(0.02)  # as the harness polls archivd's catalog
    status(h, done=True)


def seed(a):
    s = session(a["port"], a.get("tcp_only", False), a.get("host", "127.0.0.1"), a)
    h = add(s, a)
    n = 0
    while True:
        status(h)
        if n % 10 == 0:
            connect(h, a)
        n += 1
        time.sleep(0.5)


def connect(h, a):
    for p in a.get("peers", []):
        host, port = p.rsplit(":", 1)
        h.connect_peer((host, int(port)))


def download(a):
    s = session(a["port"], a.get("tcp_only", False), a.get("host", "127.0.0.1"), a)
    h = add(s, a)
    connect(h, a)
    n = 0
    while True:
        st = status(h) if n % 5 == 0 else h.status()
        n += 1
        if st.is_seeding or (st.progress >= 1.0 and not checking(st)):
            status(h, done=True)
            return
        if n % 20 == 0:
            connect(h, a)
        time.sleep(0.1)


def many(a):
    import glob
    import os
    start = time.time()
    s = session(a["port"], a.get("tcp_only", False))
    s.apply_settings({"alert_mask": lt.alert.category_t.error_notification
                      | lt.alert.category_t.storage_notification
                      | lt.alert.category_t.status_notification})
    rd = a["resume_dir"]
    os.makedirs(rd, exist_ok=True)
    handles = {}
    resumed = 0
    for f in sorted(glob.glob(os.path.join(a["torrent_dir"], "*.torrent"))):
        base = os.path.basename(f)
        rf = os.path.join(rd, base + ".resume")
        if os.path.exists(rf):
            with open(rf, "rb") as fh:
                p = lt.read_resume_data(fh.read())
            resumed += 1
        else:
            p = lt.add_torrent_params()
        p.ti = lt.torrent_info(f)
        p.save_path = a["save_path"]
        p.flags = (p.flags | lt.torrent_flags.disable_pex | lt.torrent_flags.disable_dht
                   | lt.torrent_flags.disable_lsd)
        p.flags &= ~lt.torrent_flags.paused
        p.flags &= ~lt.torrent_flags.auto_managed
        h = s.add_torrent(p)
        handles[str(h.info_hash())] = (h, base)
    total = len(handles)
    while True:
        n = sum(1 for h, _ in handles.values() if h.status(0).is_seeding)
        if n == total:
            break
        time.sleep(0.02)
    print(json.dumps({"done": True, "torrents_seeding": n, "total": total, "resumed": resumed,
                      "elapsed": time.time() - start}), flush=True)
    for h, _ in handles.values():
        h.save_resume_data(lt.torrent_handle.save_info_dict)
    left = total
    deadline = time.time() + 120
    while left > 0 and time.time() < deadline:
        s.wait_for_alert(1000)
        for al in s.pop_alerts():
            if isinstance(al, lt.save_resume_data_alert):
                _, base = handles[str(al.handle.info_hash())]
                with open(os.path.join(rd, base + ".resume"), "wb") as fh:
                    fh.write(lt.write_resume_data_buf(al.params))
                left -= 1
            elif isinstance(al, lt.save_resume_data_failed_alert):
                left -= 1
    print(json.dumps({"saved": total - left}), flush=True)


def main():
    a = json.loads(sys.argv[1])
    {"create": create, "check": check, "seed": seed, "download": download, "many": many}[a["mode"]](a)


if __name__ == "__main__":
    main()
