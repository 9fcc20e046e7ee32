package main

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// set returns the data set every figure from adopt on works with
// (BENCH_ADOPT_MB in files of 512 MiB, 4 MiB pieces), made once.
func (b *bench) set() (*dataSet, error) {
	if b.data != nil {
		return b.data, nil
	}
	s, err := b.makeSet(b.path("set", "data"), "set", b.c.adoptMB<<20)
	if err != nil {
		return nil, err
	}
	// Data an operator adopts has long been on disk: written back, not
	// dirty pages the first round's commit would have to write (it did:
	// round 1 took 0.45 s longer).
	syscall.Sync()
	b.data = s
	return s, nil
}

// warm reads the files once so that they are in the page cache.
func warm(files []string) error {
	cmd := exec.Command("cat", files...)
	cmd.Stdout = nil
	return cmd.Run()
}

// adoptNode makes a fresh node whose config declares a collection over
// the data set's directory and torrent_dir, starts it and waits until the
// torrent is recorded complete; it returns the node (still running) and
// the time from the process start.
func (b *bench) adoptNode(s *dataSet, tag string) (*node, time.Duration, error) {
	n, err := b.newNode("", collection{Name: "set", DataRoot: s.root, TorrentDir: s.tdir})
	if err != nil {
		return nil, 0, err
	}
	if err := n.start(tag); err != nil {
		return nil, 0, err
	}
	at, err := n.allComplete(1, time.Hour)
	if err != nil {
		return nil, 0, err
	}
	return n, at.Sub(n.serve.started), nil
}

// figAdopt: first start of archivd on existing data (import through
// torrent_dir, hash everything, all recorded complete), page cache warm,
// against openssl speed -evp sha1 -multi NCPU (wall clock, -elapsed) and
// libtorrent checking the same files, in the same rounds; and the bytes
// hashed per CPU-second of the whole archivd process (start, import,
// catalog, hashing) against openssl's, which the load on a shared
// machine does not move.
func figAdopt(b *bench) error {
	s, err := b.set()
	if err != nil {
		return err
	}
	fmt.Printf("FIGURE adopt: %d MiB in %d files, 4 MiB pieces, page cache warm\n", s.size>>20, len(s.files))
	var ours, lt, ossl, osslFiles, oursCPU, osslCPU series
	for r := 1; r <= b.c.rounds; r++ {
		if err := warm(s.files); err != nil {
			return err
		}
		o, err := b.openssl()
		if err != nil {
			return err
		}
		of, err := b.opensslFiles(s.files)
		if err != nil {
			return err
		}
		n, d, err := b.adoptNode(s, fmt.Sprintf("adopt-r%d", r))
		if err != nil {
			return err
		}
		cpu, err := cpuSeconds(n.serve.cmd.Process.Pid)
		if err != nil {
			return err
		}
		if err := n.stop(); err != nil {
			return err
		}
		p, err := b.lt(fmt.Sprintf("lt-check-r%d", r), map[string]any{"mode": "check", "torrent": s.torrent, "save_path": s.root})
		if err != nil {
			return err
		}
		dl, err := ltUntil(p, b, time.Hour, func(st ltStatus) bool { return st.Done })
		if err != nil {
			return err
		}
		_ = p.wait(time.Minute)
		ours.add(mbps(s.size, d))
		lt.add(mbps(s.size, dl))
		ossl.add(o.wall / 1e6)
		osslFiles.add(mbps(s.size, of))
		oursCPU.add(float64(s.size) / 1e6 / cpu)
		osslCPU.add(o.perCPU / 1e6)
		fmt.Printf("ROUND %d adopt: archivd %.2f s = %.0f MB/s (%.0f MB per CPU-second), libtorrent check %.2f s = %.0f MB/s, openssl -multi -elapsed %.0f MB/s (%.0f MB per CPU-second), openssl sha1 of the files %.2f s = %.0f MB/s\n",
			r, d.Seconds(), mbps(s.size, d), float64(s.size)/1e6/cpu, dl.Seconds(), mbps(s.size, dl), o.wall/1e6, o.perCPU/1e6, of.Seconds(), mbps(s.size, of))
	}
	result("adoption (first start, data present, warm), MB/s", "MB/s", &ours, "openssl -multi -elapsed", &ossl)
	result("adoption (first start, data present, warm), MB/s", "MB/s", &ours, "openssl sha1 of the same files", &osslFiles)
	result("adoption (first start, data present, warm), MB/s", "MB/s", &ours, "libtorrent check", &lt)
	result("adoption, MB hashed per CPU-second of the whole process", "MB/s", &oursCPU, "openssl", &osslCPU)
	return nil
}

// figVerify: `archivd verify --offline` of the data set, cold (page cache
// dropped) against `cat FILES > /dev/null` cold, and warm against openssl.
func figVerify(b *bench) error {
	s, err := b.set()
	if err != nil {
		return err
	}
	n, _, err := b.adoptNode(s, "verify-adopt")
	if err != nil {
		return err
	}
	if err := n.stop(); err != nil {
		return err
	}
	fmt.Printf("FIGURE verify: %d MiB in %d files, archivd verify --offline (whole command)\n", s.size>>20, len(s.files))
	var cold, cat, hot, ossl, osslFiles series
	for r := 1; r <= b.c.rounds; r++ {
		if err := dropCaches(); err != nil {
			return err
		}
		dc, err := b.timed(fmt.Sprintf("cat-r%d", r), "sh", "-c", "cat "+strings.Join(s.files, " ")+" > /dev/null")
		if err != nil {
			return err
		}
		if err := dropCaches(); err != nil {
			return err
		}
		dv, err := b.timed(fmt.Sprintf("verify-cold-r%d", r), b.c.bin, "--config", n.cfg, "verify", "--offline", "--json")
		if err != nil {
			return err
		}
		dw, err := b.timed(fmt.Sprintf("verify-warm-r%d", r), b.c.bin, "--config", n.cfg, "verify", "--offline", "--json")
		if err != nil {
			return err
		}
		o, err := b.openssl()
		if err != nil {
			return err
		}
		of, err := b.opensslFiles(s.files) // warm: verify-warm just read them
		if err != nil {
			return err
		}
		cat.add(mbps(s.size, dc))
		cold.add(mbps(s.size, dv))
		hot.add(mbps(s.size, dw))
		ossl.add(o.wall / 1e6)
		osslFiles.add(mbps(s.size, of))
		fmt.Printf("ROUND %d verify: cold %.0f MB/s (cat %.0f MB/s), warm %.0f MB/s (openssl -multi -elapsed %.0f MB/s, openssl sha1 of the files %.0f MB/s)\n",
			r, mbps(s.size, dv), mbps(s.size, dc), mbps(s.size, dw), o.wall/1e6, mbps(s.size, of))
	}
	result("verify --offline cold, MB/s", "MB/s", &cold, "cat cold", &cat)
	result("verify --offline warm, MB/s", "MB/s", &hot, "openssl -multi -elapsed", &ossl)
	result("verify --offline warm, MB/s", "MB/s", &hot, "openssl sha1 of the same files", &osslFiles)
	return nil
}
