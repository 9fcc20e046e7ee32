package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
)

// figCreate: `archivd add -c C DIR` on the data set's directory (the
// torrent made from the data, hashed once, recorded in the catalog as
// verified: how an operator adopts data that has no .torrent yet), page
// cache warm, against the tools that make a .torrent of the same
// directory with the same 4 MiB pieces in the same rounds: mktorrent with
// a thread per CPU, transmission-create, libtorrent's create_torrent
// (ltdrive.py create), and `openssl sha1` of the same files.
func figCreate(b *bench) error {
	s, err := b.set()
	if err != nil {
		return err
	}
	fmt.Printf("FIGURE create: %d MiB in %d files, 4 MiB pieces, page cache warm\n", s.size>>20, len(s.files))
	out := b.path("create")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var ours, mk, tr, lt, ossl series
	for r := 1; r <= b.c.rounds; r++ {
		if err := warm(s.files); err != nil {
			return err
		}
		n, err := b.newNode("")
		if err != nil {
			return err
		}
		if _, err := n.cli("collection", "create", "made"); err != nil {
			return err
		}
		da, err := b.timed(fmt.Sprintf("create-archivd-r%d", r), b.c.bin, "--config", n.cfg, "add", "-c", "made", s.dir, "--piece-length", "4MiB")
		if err != nil {
			return err
		}
		mkOut := filepath.Join(out, fmt.Sprintf("mktorrent-r%d.torrent", r))
		dm, err := b.timed(fmt.Sprintf("create-mktorrent-r%d", r), "mktorrent", "-t", strconv.Itoa(runtime.NumCPU()), "-l", "22", "-o", mkOut, s.dir)
		if err != nil {
			return err
		}
		dt, err := b.timed(fmt.Sprintf("create-transmission-r%d", r), "transmission-create", "-s", "4096",
			"-o", filepath.Join(out, fmt.Sprintf("transmission-r%d.torrent", r)), s.dir)
		if err != nil {
			return err
		}
		arg, err := json.Marshal(map[string]any{"mode": "create", "path": s.dir, "piece_length": 4 << 20,
			"out": filepath.Join(out, fmt.Sprintf("libtorrent-r%d.torrent", r))})
		if err != nil {
			return err
		}
		dl, err := b.timed(fmt.Sprintf("create-libtorrent-r%d", r), "/usr/bin/python3", b.c.ltdrive, string(arg))
		if err != nil {
			return err
		}
		do, err := b.opensslFiles(s.files)
		if err != nil {
			return err
		}
		ours.add(mbps(s.size, da))
		mk.add(mbps(s.size, dm))
		tr.add(mbps(s.size, dt))
		lt.add(mbps(s.size, dl))
		ossl.add(mbps(s.size, do))
		fmt.Printf("ROUND %d create: archivd add %.2f s = %.0f MB/s, mktorrent -t %d %.2f s = %.0f MB/s, transmission-create %.2f s = %.0f MB/s, libtorrent create_torrent %.2f s = %.0f MB/s, openssl sha1 of the files %.2f s = %.0f MB/s\n",
			r, da.Seconds(), mbps(s.size, da), runtime.NumCPU(), dm.Seconds(), mbps(s.size, dm), dt.Seconds(), mbps(s.size, dt),
			dl.Seconds(), mbps(s.size, dl), do.Seconds(), mbps(s.size, do))
	}
	name := "add DIR (make the torrent from the data, record it verified), warm, MB/s"
	result(name, "MB/s", &ours, "mktorrent -t NCPU", &mk)
	result(name, "MB/s", &ours, "transmission-create", &tr)
	result(name, "MB/s", &ours, "libtorrent create_torrent", &lt)
	result(name, "MB/s", &ours, "openssl sha1 of the same files", &ossl)
	return nil
}
