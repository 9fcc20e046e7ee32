package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/archivd/archivd/internal/pgserver"
)

// bench is one run of the harness: its work directory, the PostgreSQL
// cluster every archivd node uses (one database per node, as a production
// node uses a system PostgreSQL), and every process it started.
type bench struct {
	c     config
	ctx   context.Context
	pg    *pgserver.Server
	procs []*proc
	nodes int
	ports int
	data  *dataSet // the adopted data set, made once (see set)
	// trackers are added to the config of nodes made from then on.
	trackers []string
	// logLevel ("" = info) and extraConf (YAML lines, e.g. fleet: and
	// node:) go into the config of nodes made from then on.
	logLevel, extraConf string
	// urlParams (e.g. "jit=on") are added to the database URL of nodes
	// made from then on.
	urlParams string
}

func (b *bench) path(elem ...string) string {
	p := filepath.Join(append([]string{b.c.dir}, elem...)...)
	_ = os.MkdirAll(filepath.Dir(p), 0o755)
	return p
}

func (b *bench) startPostgres(dir string) error {
	s, err := pgserver.Start(b.ctx, pgserver.Options{Dir: dir, Port: 5499})
	if err != nil {
		return err
	}
	b.pg = s
	return nil
}

// cleanup stops every process still running (by PID) and the cluster.
func (b *bench) cleanup() {
	for _, p := range b.procs {
		_ = p.stop(syscall.SIGKILL, 10*time.Second)
	}
	if b.pg != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = b.pg.Close(ctx)
	}
}

// port returns a TCP/UDP port for a peer; the namespace is private, so
// counting up from a fixed base cannot collide with anyone else.
func (b *bench) port() int {
	b.ports++
	return 30000 + b.ports
}

// machine prints the state the figures were measured in.
func (b *bench) machine() {
	load, _ := os.ReadFile("/proc/loadavg")
	var u syscall.Utsname
	_ = syscall.Uname(&u)
	fmt.Printf("MACHINE cpus=%d cpu=%q kernel=%s load=%s rounds=%d torrents=%d adopt=%dMiB\n",
		runtime.NumCPU(), cpuModel(), utsString(u.Release[:]), strings.Join(strings.Fields(string(load))[:3], " "),
		b.c.rounds, b.c.torrents, b.c.adoptMB)
}

// cpuModel is the first "model name" of /proc/cpuinfo ("" if none): the
// hashing figures depend on it (SHA extensions or not).
func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func utsString(a []int8) string {
	var s []byte
	for _, c := range a {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

// dropCaches empties the page cache (root): the next read comes from disk.
func dropCaches() error {
	if err := exec.Command("sync").Run(); err != nil {
		return err
	}
	return os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0o200)
}

var opensslRow = regexp.MustCompile(`(?m)^sha1\s.*\s([0-9.]+)k\s*$`)

// opensslRate is `openssl speed -evp sha1 -multi NCPU`'s rate on 16 KiB
// blocks: wall is bytes per second of wall-clock time, the basis of every
// archivd figure (-elapsed says so explicitly: one openssl process without
// -multi divides by its CPU user time, 1.26 GB/s against 0.91 GB/s by the
// wall at load 4.6; with -multi the children's rates were wall-clock
// rates already, 587 + 278 MB/s in the same minute); perCPU is bytes per
// CPU-second (user+sys of openssl and its children), which the load on a
// shared machine moves much less.
type opensslRate struct{ wall, perCPU float64 }

const opensslSeconds = 2

func (b *bench) openssl() (opensslRate, error) {
	cmd := exec.CommandContext(b.ctx, "openssl", "speed", "-elapsed", "-evp", "sha1", "-multi", strconv.Itoa(runtime.NumCPU()),
		"-seconds", strconv.Itoa(opensslSeconds), "-bytes", "16384")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return opensslRate{}, fmt.Errorf("openssl speed: %v: %s", err, out)
	}
	m := opensslRow.FindAllSubmatch(out, -1)
	if len(m) == 0 {
		return opensslRate{}, fmt.Errorf("openssl speed: no sha1 row in %q", out)
	}
	k, err := strconv.ParseFloat(string(m[len(m)-1][1]), 64)
	if err != nil {
		return opensslRate{}, err
	}
	r := opensslRate{wall: k * 1000}
	if cpu := (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds(); cpu > 0 {
		r.perCPU = r.wall * opensslSeconds / cpu
	}
	return r, nil
}

// opensslFiles hashes files (warm) with `openssl sha1`, one process per
// CPU, each taking every NCPU-th file, and returns the wall time until the
// last one is done: what the fastest hashing tool on this machine does
// with the same files read from the page cache, process starts included.
func (b *bench) opensslFiles(files []string) (time.Duration, error) {
	n := runtime.NumCPU()
	began := time.Now()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		var mine []string
		for j := i; j < len(files); j += n {
			mine = append(mine, files[j])
		}
		if len(mine) == 0 {
			continue
		}
		wg.Go(func() {
			out, err := exec.CommandContext(b.ctx, "openssl", append([]string{"sha1", "-r"}, mine...)...).CombinedOutput()
			if err != nil {
				errs[i] = fmt.Errorf("openssl sha1: %v: %s", err, out)
			}
		})
	}
	wg.Wait()
	d := time.Since(began)
	return d, errors.Join(errs...)
}

// series collects one figure's values over the rounds.
type series struct{ v []float64 }

func (s *series) add(x float64) { s.v = append(s.v, x) }

func (s *series) median() float64 {
	if len(s.v) == 0 {
		return 0
	}
	v := slices.Clone(s.v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func (s *series) String() string {
	parts := make([]string, len(s.v))
	for i, x := range s.v {
		parts[i] = fmtNum(x)
	}
	return strings.Join(parts, ", ")
}

func fmtNum(x float64) string {
	if x >= 100 {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

// result prints one figure: archivd's median, the peer's median measured
// in the same rounds, and their ratio. higher says whether a larger value
// is better (a rate) or worse (a time); the ratio is always archivd/peer.
func result(what, unit string, ours *series, peerName string, peer *series) {
	o, p := ours.median(), peer.median()
	ratio := 0.0
	if p > 0 {
		ratio = o / p
	}
	fmt.Printf("RESULT %s | archivd %s %s [%s] | %s %s %s [%s] | ratio %.2f\n",
		what, fmtNum(o), unit, ours, peerName, fmtNum(p), unit, peer, ratio)
}

func mbps(bytes int64, d time.Duration) float64 { return float64(bytes) / 1e6 / d.Seconds() }
