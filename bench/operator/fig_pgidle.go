package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// figPGIdle: the PostgreSQL CPU that one idle archivd node (a 16 MiB
// torrent, seeding, nothing else to do) costs per minute, with the
// database's jit at the stock default (on, as PostgreSQL built with LLVM
// ships), once as archivd connects (its sessions turn jit off) and once
// with jit=on in the node's URL (what every archivd did before). The two
// nodes idle one after the other on the same cluster, BENCH_IDLE_SECS
// each (default 20), after 5 s to settle.
func figPGIdle(b *bench) error {
	s, err := b.makeSet(b.path("pgidle", "data"), "pgidle", 16<<20)
	if err != nil {
		return err
	}
	secs := time.Duration(envInt("BENCH_IDLE_SECS", 20)) * time.Second
	pm, err := postmasterPID(b.path("pg", "data", "postmaster.pid"))
	if err != nil {
		return err
	}
	fmt.Printf("FIGURE pgidle: PostgreSQL CPU of one idle node, the database's jit on (stock), %s per round\n", secs)
	var def, on series
	for r := 1; r <= b.c.rounds; r++ {
		for _, v := range []struct {
			name, url string
			into      *series
		}{{"archivd's sessions (jit off)", "", &def}, {"jit=on in the URL (before)", "jit=on", &on}} {
			b.urlParams = v.url
			n, err := b.newNode("", collection{Name: "pgidle", DataRoot: s.root, TorrentDir: s.tdir})
			b.urlParams = ""
			if err != nil {
				return err
			}
			if _, err := sqlCmd(b.pg.URL(n.name), fmt.Sprintf("ALTER DATABASE %s SET jit = on", n.name)); err != nil {
				return err
			}
			if err := n.start(fmt.Sprintf("pgidle-r%d", r)); err != nil {
				return err
			}
			if _, err := n.allComplete(1, 10*time.Minute); err != nil {
				return err
			}
			time.Sleep(5 * time.Second)
			c0, err := treeCPU(pm)
			if err != nil {
				return err
			}
			time.Sleep(secs)
			c1, err := treeCPU(pm)
			if err != nil {
				return err
			}
			if err := n.stop(); err != nil {
				return err
			}
			perMin := (c1 - c0) * 60 / secs.Seconds()
			v.into.add(perMin)
			fmt.Printf("ROUND %d %s: PostgreSQL %.2f CPU-s per minute idle\n", r, v.name, perMin)
		}
	}
	result("PostgreSQL CPU-s per minute, one idle node, database jit on", "CPU-s", &def, "jit=on in the URL", &on)
	return nil
}

// sqlCmd runs one statement with psql on the database of url.
func sqlCmd(url, stmt string) (string, error) {
	out, err := exec.Command("psql", "-q", "-X", "-d", url, "-c", stmt).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("psql %q: %v: %s", stmt, err, out)
	}
	return string(out), nil
}

// postmasterPID reads the first line of postmaster.pid.
func postmasterPID(path string) (int, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(strings.SplitN(string(raw), "\n", 2)[0]))
}

// treeCPU is the CPU-seconds of a process, its live children and its
// children already reaped (a PostgreSQL postmaster and its backends).
func treeCPU(pid int) (float64, error) {
	own, err := statTimes(pid)
	if err != nil {
		return 0, err
	}
	total := own[0] + own[1] + own[2] + own[3]
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == pid {
			continue
		}
		if ppid, err := parentPID(child); err != nil || ppid != pid {
			continue
		}
		if t, err := statTimes(child); err == nil {
			total += t[0] + t[1]
		}
	}
	return total / 100, nil
}

// statFields are /proc/PID/stat's fields after the command name.
func statFields(pid int) ([]string, error) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil, err
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	if len(f) < 15 {
		return nil, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	return f, nil
}

func parentPID(pid int) (int, error) {
	f, err := statFields(pid)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(f[1])
}

// statTimes: utime, stime, cutime, cstime in clock ticks.
func statTimes(pid int) ([4]float64, error) {
	var t [4]float64
	f, err := statFields(pid)
	if err != nil {
		return t, err
	}
	for i := range t {
		v, err := strconv.ParseFloat(f[11+i], 64)
		if err != nil {
			return t, err
		}
		t[i] = v
	}
	return t, nil
}
